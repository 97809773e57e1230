/** The terminal view's screen as lines: a pure function, each line cut to the width, sections shrinking (requests first) to the height. */
import type { TransportName } from '../forward';
import { SELECTABLE_WAITING } from './terminal-keys';
import { BROWSER_P2P_WORDS, type BrowserP2P } from './browser-p2p';
import { printable } from './printable';
import type { ViewerEntry } from '../viewers/viewer-roster';

export interface ScreenViewer {
  id: string;
  transport: TransportName;
  rttMs?: number;
  /** Epoch ms. */
  since: number;
  /** Instead of the id (a relay viewer's address); the short id then follows. */
  label?: string;
  /** Why this viewer is where it is (e.g. its app runs its own Service Worker). */
  note?: string;
  /** `--allow-email`. */
  email?: string;
}

/** How the banner (here and reporter.ts) says who may open a session: a `--private` one, one with a viewer password. */
export const PRIVATE_WORDS = 'private: the server relays nothing; viewers need the full link (P2P, verified with its key)';
export const PASSWORD_WORDS = 'viewers need the password';

export interface ScreenProblem {
  at: number;
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface ScreenState {
  url?: string;
  qr?: string;
  access?: 'link' | 'password';
  private?: boolean;
  expiresAt?: number;
  target: string;
  inspector?: string;
  /** browser-p2p.ts; undefined before the first ready. */
  p2p?: BrowserP2P;
  /** Under the header when not connected ("reconnecting ..."). */
  status?: string;
  viewers: ScreenViewer[];
  /** Viewers waiting to be let in (`--approve`), numbered in this order. */
  waiting?: ViewerEntry[];
  /** The one `a` and `d` act on. */
  selectedWaiting?: string | undefined;
  /** Default: the Ctrl+C hint. */
  keys?: string;
  /** `status` 0: the stream failed before a head (see `error`). */
  requests: Array<{ at: number; method: string; path: string; status: number; error?: string; ms: number; transport: string }>;
  problems: ScreenProblem[];
  /** The last screen stays, without the Ctrl+C hint. */
  closed?: boolean;
}

/** Lines kept for the sections other than requests, so a short terminal still shows some. */
const MIN_REQUEST_ROWS = 3;

const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** Code points; the QR's half blocks are one column each. */
function fit(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

export function renderScreen(state: ScreenState, size: { columns: number; rows: number }, now: number): string[] {
  const header: string[] = ['Wingman', ''];
  header.push(state.url ? `    ${state.url}` : state.closed ? '    (no session)' : '    connecting to the tunnel server...');
  if (state.private) header.push(`    ${PRIVATE_WORDS}`);
  if (state.access === 'password') header.push(`    ${PASSWORD_WORDS}`);
  if (state.expiresAt !== undefined) header.push(`    expires at ${new Date(state.expiresAt).toLocaleString()}`);
  header.push('');
  header.push(`forwarding to ${state.target}${state.p2p === undefined ? '' : ` (${BROWSER_P2P_WORDS[state.p2p]})`}`);
  if (state.inspector) header.push(`inspect requests at ${state.inspector}`);
  if (state.status) header.push(state.status);
  header.push('');

  const viewers = [`Viewers (${state.viewers.length})`];
  for (const v of state.viewers.slice(0, 8)) {
    viewers.push(
      `  ${(v.label ?? v.id).slice(0, 15).padEnd(15)} ${v.transport.padEnd(5)} ${(v.rttMs === undefined ? '-' : `${v.rttMs} ms`).padStart(8)}   since ${clock(v.since)} (${ago(now - v.since)})${v.label ? `  ${v.id.slice(0, 8)}` : ''}${v.email ? `  ${v.email}` : ''}${v.note ? `  (${v.note})` : ''}`,
    );
  }
  if (state.viewers.length > 8) viewers.push(`  ... and ${state.viewers.length - 8} more`);
  viewers.push('');
  const waiting = state.waiting ?? [];
  if (waiting.length > 0) {
    viewers.push(`Waiting to be let in (${waiting.length}): 1-${Math.min(waiting.length, SELECTABLE_WAITING)} select, a admits the selected (>), d refuses it`);
    waiting
      .slice(0, SELECTABLE_WAITING)
      .forEach((w, i) =>
        viewers.push(
          `${w.id === state.selectedWaiting ? '>' : ' '}${i + 1} ${w.id.slice(0, 8)} ${w.address.padEnd(15)} waiting since ${clock(w.firstSeenAt)} (${ago(now - w.firstSeenAt)})  ${w.email ? `${w.email}  ` : ''}${w.userAgent || 'no User-Agent'}`,
        ),
      );
    if (waiting.length > SELECTABLE_WAITING) viewers.push(`  ... and ${waiting.length - SELECTABLE_WAITING} more`);
    viewers.push('');
  }

  const problems = state.problems.length
    ? ['Errors and warnings', ...state.problems.slice(-3).map((p) => `  ${clock(p.at)} ${p.level}: ${p.message}`), '']
    : [];
  const footer = [state.closed ? 'Tunnel closed.' : (state.keys ?? 'Ctrl+C to stop.')];

  const qr = state.qr ? [...state.qr.split('\n'), ''] : [];
  const fixed = header.length + viewers.length + problems.length + footer.length + 1;
  // The QR code only when the requests still get a few rows beside it.
  const withQr = qr.length > 0 && size.rows - fixed - qr.length >= MIN_REQUEST_ROWS + 1;
  const requestRows = Math.max(0, size.rows - fixed - (withQr ? qr.length : 0) - 1);
  const requests = ['Requests'];
  const shown = state.requests.slice(-requestRows);
  if (shown.length === 0) requests.push('  none yet');
  for (const r of shown) {
    const status = r.status === 0 ? (r.error ?? 'reset') : String(r.status);
    requests.push(`  ${clock(r.at)} ${r.method.padEnd(7)} ${r.path.padEnd(30)} ${status.padStart(3)} ${String(r.ms).padStart(6)} ms  ${r.transport}`);
  }
  requests.push('');

  const lines = [...header, ...(withQr ? qr : []), ...viewers, ...requests, ...problems, ...footer];
  // Outsiders' text loses its control characters (printable.ts).
  return lines.slice(0, Math.max(1, size.rows - 1)).map((l) => fit(printable(l), Math.max(1, size.columns)));
}
