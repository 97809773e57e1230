/**
 * The viewer diagnostics page's script (DIAGNOSTICS_PATH): asks every open
 * shell of this session in this browser for a snapshot over
 * BroadcastChannel(DIAGNOSTICS_CHANNEL), adds what it knows itself (user
 * agent, Service Worker, `/__wingman/session`), shows the figures and lets
 * the reviewer copy the report as JSON for the developer.
 */
import { shortViewerId, VISITOR_ID_PATTERN } from '@wingman/protocol';
import { DIAGNOSTICS_CHANNEL, DIAGNOSTICS_REPLY_TIMEOUT_MS } from '../shared/constants';
import {
  buildReport,
  parseDiagChannels,
  parseDiagReply,
  parseDiagRoutes,
  type DiagReport,
  type DiagRequest,
  type PageFacts,
  type RouteCounts,
  type ShellSnapshot,
} from '../shared/diagnostics';

/** More shells than this answering one request is someone else posting on the channel: the rest are ignored. */
const MAX_SHELLS = 16;
const SESSION_INFO_PATH = '/__wingman/session';
/** /__wingman/session answers from memory; 5 s covers a slow relay without leaving the page waiting forever. */
const SESSION_INFO_TIMEOUT_MS = 5_000;

/** Asks the open shells and the Service Worker: their snapshots, and the Service Worker's route counts. */
function askShells(): Promise<{ shells: ShellSnapshot[]; routes?: RouteCounts; swChannels?: string[] }> {
  if (typeof BroadcastChannel !== 'function') return Promise.resolve({ shells: [] });
  const id = Array.from(crypto.getRandomValues(new Uint8Array(8)), (x) => x.toString(16).padStart(2, '0')).join('');
  const channel = new BroadcastChannel(DIAGNOSTICS_CHANNEL);
  const shells = new Map<string, ShellSnapshot>();
  let routes: RouteCounts | undefined;
  let swChannels: string[] | undefined;
  return new Promise((resolve) => {
    const done = () => {
      channel.close();
      resolve({ shells: [...shells.values()], ...(routes ? { routes } : {}), ...(swChannels ? { swChannels } : {}) });
    };
    channel.onmessage = (ev: MessageEvent) => {
      const snap = parseDiagReply(ev.data, id);
      if (snap && shells.size < MAX_SHELLS) shells.set(snap.shellId, snap);
      routes ??= parseDiagRoutes(ev.data, id);
      swChannels ??= parseDiagChannels(ev.data, id);
    };
    channel.postMessage({ type: 'wingman:diag-request', id } satisfies DiagRequest);
    setTimeout(done, DIAGNOSTICS_REPLY_TIMEOUT_MS);
  });
}

async function serviceWorkerState(): Promise<PageFacts['serviceWorker']> {
  if (!('serviceWorker' in navigator)) return 'unsupported';
  const reg = await navigator.serviceWorker.getRegistration('/').catch(() => undefined);
  if (reg?.active) return 'active';
  return reg?.installing || reg?.waiting ? 'installing' : 'none';
}

async function sessionInfo(): Promise<unknown> {
  try {
    const res = await fetch(SESSION_INFO_PATH, { cache: 'no-store', signal: AbortSignal.timeout(SESSION_INFO_TIMEOUT_MS) });
    if (!res.ok) return `HTTP ${res.status}`;
    return await res.json();
  } catch (err) {
    return String((err as Error).message ?? err).slice(0, 200);
  }
}

async function collect(): Promise<DiagReport> {
  const [{ shells, routes, swChannels }, serviceWorker, session] = await Promise.all([askShells(), serviceWorkerState(), sessionInfo()]);
  return buildReport(
    { generatedAt: new Date().toISOString(), userAgent: navigator.userAgent, url: location.origin, serviceWorker, session },
    shells,
    routes,
    swChannels,
  );
}

function field(name: string, value: string): void {
  const el = document.querySelector(`[data-field="${name}"]`);
  if (el) el.textContent = value;
}

/** What the link key's checks established, for the shell shown. */
function verification(shell: ShellSnapshot | undefined): string {
  if (!shell) return '—';
  const refused = shell.untrusted ? ` · ${shell.untrusted} signaling message(s) or channel(s) refused by the link key's checks` : '';
  if (!shell.keyed) return `no: the link had no key (#k=…)${refused}`;
  if (shell.transport === 'p2p') return (shell.verified ? 'yes: the channel ends at the holder of the link key' : 'no') + refused;
  return `no verified channel yet${refused}`;
}

function render(report: DiagReport): void {
  const shell = report.shells.find((s) => s.transport === 'p2p') ?? report.shells[0];
  const session = report.session as { sessionId?: unknown; viewer?: unknown } | undefined;
  field('session', String(shell?.sessionId ?? (typeof session?.sessionId === 'string' ? session.sessionId : 'unknown')));
  // The viewer id of this browser (the server's viewer cookie), in the short form the developer's terminal and inspector show.
  field(
    'viewer',
    typeof session?.viewer === 'string' && VISITOR_ID_PATTERN.test(session.viewer) ? `viewer ${shortViewerId(session.viewer)} (${session.viewer})` : '—',
  );
  field('transport', report.why ? `${report.transport} (${report.why})` : report.transport);
  field('verified', verification(shell));
  field('fingerprints', shell?.fingerprints ? `agent ${shell.fingerprints.agent}…, this browser ${shell.fingerprints.viewer}…` : '—');
  field(
    'ice',
    shell?.ice
      ? `${shell.ice.local} → ${shell.ice.remote} over ${shell.ice.protocol}${shell.ice.relayProtocol ? ` (TURN over ${shell.ice.relayProtocol})` : ''}`
      : '—',
  );
  field('rtt', shell?.rttMs !== undefined ? `${shell.rttMs} ms` : '—');
  field(
    'loss',
    shell?.loss
      ? `${shell.loss.lost} of ${shell.loss.sent} probes lost${shell.loss.lossy ? ': lossy, so page loads go around the channel (over the relay)' : ''}`
      : '—',
  );
  field('bytes', shell?.bytesSent !== undefined ? `${shell.bytesSent} sent, ${shell.bytesReceived ?? 0} received` : '—');
  field('shells', report.shells.length === 0 ? 'none: open the app in this browser, then refresh' : String(report.shells.length));
  field('sw', report.serviceWorker);
  const routes = Object.entries(report.routes ?? {}).sort((a, b) => b[1] - a[1]);
  field('routes', routes.length === 0 ? '—' : routes.map(([route, n]) => `${route.replace(' ', ' · ')} ${n}`).join(', '));
  field('ua', report.userAgent);
  const list = document.getElementById('errors') as HTMLElement;
  list.replaceChildren();
  const errors = report.shells.flatMap((s) => s.errors).sort((a, b) => (a.at < b.at ? -1 : 1));
  for (const e of errors) {
    const li = document.createElement('li');
    li.textContent = `${e.at} ${e.code}: ${e.message}`;
    list.appendChild(li);
  }
  if (errors.length === 0) list.textContent = 'none';
  (document.getElementById('report') as HTMLElement).textContent = JSON.stringify(report, null, 2);
  document.body.setAttribute('data-ready', '1');
}

async function refresh(): Promise<void> {
  document.body.removeAttribute('data-ready');
  render(await collect());
}

document.getElementById('refresh')?.addEventListener('click', () => void refresh());
document.getElementById('copy')?.addEventListener('click', () => {
  const text = document.getElementById('report')?.textContent ?? '';
  const note = document.getElementById('copied') as HTMLElement;
  navigator.clipboard.writeText(text).then(
    () => (note.textContent = 'copied'),
    () => {
      // No clipboard permission (e.g. an insecure origin): select the text for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('report') as HTMLElement);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      note.textContent = 'selected: press Ctrl+C / ⌘C';
    },
  );
});
void refresh();
