/**
 * `wingman http` on a terminal: one screen redrawn in place instead of a
 * scrolling log, behind the same Reporter interface; only on a TTY, without
 * --json or --no-tui. On close the last screen stays.
 */
import type { RequestLogEntry } from '../forward';
import type { Entry, RequestStore } from '../inspector/store';
import { viewersResetWords, type Reporter } from './reporter';
import { renderQr, shouldPrintQr, type QrChoice } from './qr';
import { browserP2P } from './browser-p2p';
import { renderScreen, type ScreenProblem, type ScreenState, type ScreenViewer } from './terminal-screen';
import { attachViewerKeys, selectedWaiting, VIEWER_KEY_HELP, type KeyInput } from './terminal-keys';
import { shortViewerId } from '@wingman/protocol';
import { MAX_ROSTER_VIEWERS, type ViewerRoster } from '../viewers/viewer-roster';

/** At most 5 screens a second, whatever the request rate (a redraw per request floods a slow terminal), ms. */
const TERMINAL_REDRAW_MIN_INTERVAL_MS = 200;
/** Redraw this often even without events, so "since" ages move, ms. */
const TERMINAL_REFRESH_MS = 1_000;
const OWN_SW_NOTE = 'own Service Worker';
/** More than any terminal shows. */
const TERMINAL_REQUESTS_KEPT = 200;
/** The screen shows the last 3. */
const TERMINAL_PROBLEMS_KEPT = 20;
/** A relay viewer (known only from its requests) leaves the list after this long without one, ms. */
const RELAY_VIEWER_IDLE_MS = 5 * 60_000;

interface TerminalOutput {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
  on?(event: 'resize', fn: () => void): unknown;
  off?(event: 'resize', fn: () => void): unknown;
}

interface TerminalView extends Reporter {
  /** Requests (and relay viewers) from the inspector's store rather than `request()`. */
  attachStore(store: RequestStore): void;
  /** Viewer identity: waiting viewers get a section; with `keys` (a TTY) the viewer keys work (terminal-keys.ts). */
  attachViewers(roster: ViewerRoster, keys?: KeyInput): void;
  rtt(viewerId: string, rttMs: number): void;
  /** Last redraw, cursor back, timers and listeners off. Idempotent. */
  dispose(): void;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export function createTerminalView(options: { stdout: TerminalOutput; target: string; qr?: QrChoice; now?: () => number }): TerminalView {
  const { stdout } = options;
  const now = options.now ?? Date.now;
  const state: ScreenState = { target: options.target, viewers: [], requests: [], problems: [] };
  const relaySeen = new Map<string, number>();
  /** Viewers whose app runs its own Service Worker (relay from then on), oldest first. */
  const ownSw = new Set<string>();
  let lastDraw = 0;
  let pending: NodeJS.Timeout | undefined;
  let disposed = false;
  let store: RequestStore | undefined;
  let unsubscribe: (() => void) | undefined;
  let roster: ViewerRoster | undefined;
  let detachKeys: (() => void) | undefined;
  let selectedId: string | undefined;

  const draw = () => {
    pending = undefined;
    lastDraw = now();
    pruneRelayViewers();
    for (const v of state.viewers) {
      if (ownSw.has(v.id)) v.note = OWN_SW_NOTE;
      // From the roster: relay viewers' addresses, each viewer's email, the waiting viewers.
      const known = roster?.get(v.id);
      if (v.transport === 'relay' && known) v.label = known.address;
      if (known?.email !== undefined) v.email = known.email;
    }
    if (roster) {
      state.waiting = roster.waiting();
      state.selectedWaiting = selectedWaiting(roster, selectedId)?.id;
    }
    const lines = renderScreen(state, { columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 }, lastDraw);
    stdout.write(HOME + lines.map((l) => l + CLEAR_LINE_END).join('\n') + '\n' + CLEAR_BELOW);
  };
  const schedule = () => {
    if (disposed || pending) return;
    pending = setTimeout(draw, Math.max(0, lastDraw + TERMINAL_REDRAW_MIN_INTERVAL_MS - now()));
  };
  const onResize = () => {
    if (disposed) return;
    // Old lines may have wrapped at the old width: clear everything once.
    stdout.write('\x1b[2J');
    schedule();
  };
  const refresh = setInterval(schedule, TERMINAL_REFRESH_MS);
  refresh.unref();
  stdout.on?.('resize', onResize);
  const restoreOnExit = () => void stdout.write(SHOW_CURSOR);
  process.once('exit', restoreOnExit);
  stdout.write(HIDE_CURSOR + '\x1b[2J');

  const push = <T>(list: T[], item: T, kept: number) => {
    list.push(item);
    if (list.length > kept) list.splice(0, list.length - kept);
  };
  const problem = (level: ScreenProblem['level'], message: string) => {
    push(state.problems, { at: now(), level, message }, TERMINAL_PROBLEMS_KEPT);
    schedule();
  };
  const addRequest = (at: number, e: { method: string; target: string; status: number; error?: string; transport: string }, ms: number) => {
    const { method, target: path, status, error, transport } = e;
    push(state.requests, { at, method, path, status, ...(error ? { error } : {}), ms, transport }, TERMINAL_REQUESTS_KEPT);
    schedule();
  };
  const setViewer = (v: ScreenViewer) => {
    state.viewers = [...state.viewers.filter((o) => o.id !== v.id), v];
  };
  /** Known only from its requests (the X-Forwarded-For address). */
  const seenOnRelay = (id: string, at: number) => {
    if (!relaySeen.has(id) && !state.viewers.some((v) => v.id === id)) setViewer({ id, transport: 'relay', since: at });
    relaySeen.set(id, at);
  };
  function pruneRelayViewers() {
    const t = now();
    for (const [id, at] of relaySeen) {
      if (t - at < RELAY_VIEWER_IDLE_MS) continue;
      relaySeen.delete(id);
      state.viewers = state.viewers.filter((v) => !(v.id === id && v.transport === 'relay'));
    }
  }
  const fromEntry = (e: Entry) => {
    addRequest(e.startedAt, e, e.durationMs);
    if (e.viewer && e.transport === 'relay') seenOnRelay(e.viewer, e.startedAt);
  };

  return {
    attachViewers(r, keys) {
      roster = r;
      r.on('viewer', (v) => {
        // A refused viewer leaves the list at once.
        if (v.state === 'refused') state.viewers = state.viewers.filter((o) => o.id !== v.id);
        schedule();
      });
      r.on('gone', schedule);
      if (!keys) return;
      detachKeys = attachViewerKeys(
        keys,
        r,
        (message) => problem('info', message),
        () => void process.kill(process.pid, 'SIGINT'),
        (id) => {
          selectedId = id;
          schedule();
        },
      );
      if (keys.isTTY) state.keys = VIEWER_KEY_HELP;
      schedule();
    },
    attachStore(s) {
      store = s;
      unsubscribe = s.subscribe((event) => {
        if (event.type === 'added') fromEntry(event.entry);
        else {
          state.requests = [];
          schedule();
        }
      });
    },
    ready(e, forwardingTo, inspector) {
      // A new URL is worth a warning: the old link no longer works.
      if (state.url !== undefined)
        problem(e.resumed ? 'info' : 'warning', e.resumed ? `reconnected: ${e.url} (same URL)` : `reconnected with a NEW URL: ${e.url}`);
      if (e.viewersReset) problem('warning', viewersResetWords(e.viewersReset));
      state.url = e.link ?? e.url;
      state.access = e.access;
      state.private = e.private === true;
      if (e.expiresAt !== undefined) state.expiresAt = e.expiresAt;
      state.target = forwardingTo;
      if (inspector) state.inspector = inspector;
      state.p2p = browserP2P(e.p2p, e.url);
      delete state.status;
      if (shouldPrintQr(options.qr, state.url, true)) state.qr = renderQr(state.url);
      else delete state.qr;
      schedule();
    },
    request(e: RequestLogEntry) {
      if (store) return; // the store's subscription has it, with its time and viewer
      addRequest(now() - e.ms, e, e.ms);
    },
    peer(r) {
      const id = r.viewer ?? r.viewerId;
      if (r.state === 'connected') setViewer({ id, transport: 'p2p', since: now(), ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}) });
      else {
        state.viewers = state.viewers.filter((v) => v.id !== id);
        if (r.state === 'failed') problem('warning', `viewer ${shortViewerId(id)}: P2P failed (${r.reason ?? 'unknown'}); it stays on the relay`);
      }
      schedule();
    },
    rtt(viewerId, rttMs) {
      const v = state.viewers.find((o) => o.id === viewerId && o.transport === 'p2p');
      if (!v) return;
      v.rttMs = Math.round(rttMs);
      schedule();
    },
    reconnecting(e) {
      state.status = `${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s (attempt ${e.attempt})...`;
      schedule();
    },
    warning(code, message, about) {
      if (code === 'WARN_VIEWER_OWN_SW' && about?.viewer !== undefined) {
        ownSw.add(about.viewer);
        if (ownSw.size > MAX_ROSTER_VIEWERS) ownSw.delete(ownSw.values().next().value!);
      }
      problem('warning', message);
    },
    fatal: (code, message) => problem(code === 'ERR_SESSION_EXPIRED' ? 'info' : 'error', message),
    closing() {
      state.status = 'closing the tunnel...';
      schedule();
    },
    dispose() {
      if (disposed) return;
      if (pending) clearTimeout(pending);
      state.closed = true;
      if (state.status === 'closing the tunnel...') delete state.status;
      draw();
      disposed = true;
      clearInterval(refresh);
      unsubscribe?.();
      detachKeys?.();
      stdout.off?.('resize', onResize);
      process.removeListener('exit', restoreOnExit);
      stdout.write(SHOW_CURSOR);
    },
  };
}
