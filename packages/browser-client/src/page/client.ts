/**
 * Shell page entry: wiring only. The shell is a long-lived document that
 * owns the P2P channel and shows the app in a same-origin frame; the
 * Service Worker hands it the app's requests (docs/browser-client.md).
 */
import { BADGE_QUERY_PARAM } from '@wingman/protocol';
import { parseShimToShell } from '../shared/messages';
import { appPath, createAppFrame } from './app-frame';
import { createBadge, type Paths } from './badge';
import { createChannelWait } from './channel-wait';
import { readShellConfig } from './config';
import type { HandoverWindow, ShellHandover } from './shell-handover';
import { startDiagnosticsSource } from './diagnostics-source';
import { OWN_SW_REASON, ownSwRequestedIn, stepAside } from './own-service-worker';
import { createP2PManager } from './p2p';
import { createPathState } from './path-state';
import { privateAppReady } from './private-start';
import { createRequestServer } from './request-server';
import { createSwLink } from './sw-link';
import { mark, timeline } from './timeline';
import { createWsBridge } from './ws-bridge';
import { quietly } from '../shared/quietly';

mark('script');
const config = readShellConfig(document);
/**
 * What the shell's inline script left (shell-handover.ts), taken as it is: the shell's name
 * (an app document that arrives before this script ran finds it there), the link key and the
 * P2P attempt it started.
 */
const left = (window as HandoverWindow).__wingmanShell as ShellHandover;
const shellId = left.id;
const here = new URL(location.href);

const p2p = createP2PManager({ enabled: config.p2p, adopted: left.attempt, linkKey: left.linkKey });
const requests = createRequestServer(() => p2p.connection());
let paths: Paths | undefined;
const pathState = createPathState();
const sw = createSwLink({
  shellId,
  exclude: config.exclude,
  // Only a shell holding the link key can get a private session's channel: a keyless one's requests go to the relay, whose page says why.
  private: config.private && p2p.keyed,
  onFetch: (m, port) => requests.serve(m, port),
  onPaths: (p) => {
    paths = p;
    badge.update(p2p.status(), paths);
  },
});
const channelWait = createChannelWait(p2p);
const wsBridge = createWsBridge({ connection: () => p2p.connection(), channelSoon: () => channelWait.soon(), cookieHeader: (url) => sw.cookieHeader(url) });
const frame = createAppFrame(document.getElementById('wingman-frame') as HTMLIFrameElement);
const stopDiagnostics = startDiagnosticsSource({ sessionId: config.sessionId, shellId, p2p });
const badge = createBadge(config.badge && here.searchParams.get(BADGE_QUERY_PARAM) !== '0');

/** Time from the navigation's start to the first usable channel, ms (performance.now() is relative to it). */
let p2pReadyMs: number | undefined;
badge.update(p2p.status());
p2p.onStatus((s) => {
  if (s.transport === 'p2p' && p2pReadyMs === undefined) p2pReadyMs = Math.round(performance.now());
  badge.update(s, paths);
  sw.announce(pathState.next(s));
});

/** Set once the app registered its own Service Worker and the shell is handing the browser over to it. */
let steppingAside = false;
/** The app in the frame registered a Service Worker of its own: step aside for this browser (own-service-worker.ts). */
function ownServiceWorker(script: string): void {
  if (steppingAside) return;
  steppingAside = true;
  badge.update({ transport: 'relay', reason: OWN_SW_REASON });
  const appUrl = frame.element.contentWindow?.location.href ?? location.href;
  stepAside(script, appUrl).catch((err: unknown) => {
    steppingAside = false;
    console.warn(`[wingman] could not step aside for the app's own Service Worker (${String(err)}); it stays unregistered.`);
  });
}
function onFrameMessage(ev: MessageEvent): void {
  if (ev.origin !== location.origin) return;
  const m = parseShimToShell(ev.data);
  if (!m) return;
  if (m.type === 'wingman:ws-open') {
    const port = ev.ports[0];
    if (port) wsBridge.open(m, port);
  } else if (m.type === 'wingman:own-sw') {
    if (ev.source === frame.element.contentWindow) ownServiceWorker(m.script);
  } else if (ev.source === frame.element.contentWindow) {
    frame.sync();
  }
}
window.addEventListener('message', onFrameMessage);
// What the app posted before this script listened (a WebSocket opened while it parsed), held by the inline script.
for (const ev of left.frameMessages.take()) onFrameMessage(ev);

// An app document that ran before this script registered its worker then: the shim left it on its window.
const pendingOwnSw = ownSwRequestedIn(frame.element.contentWindow);
if (pendingOwnSw !== undefined) ownServiceWorker(pendingOwnSw);

/** What tests, benchmarks and a curious reviewer's devtools can read (window.__wingman). */
const debug = {
  shellId,
  status: () => ({ ...p2p.status(), p2pReadyMs, activeRequests: requests.active }),
  /** Closes the data channel as a network failure would; the shell falls back to the relay and reconnects. */
  dropChannel: () => p2p.dropChannel(),
  /** The protocol connection over the channel (benchmarks measure it without the SW hop). */
  connection: () => p2p.connection(),
  /** Start-up milestones, ms since the navigation started. */
  timeline,
  /** The P2P attempts' errors, oldest first (what the diagnostics page lists). */
  errors: () => p2p.errors(),
};
Object.assign(window, { __wingman: debug, __wingmanShell: { id: shellId } });

window.addEventListener('pagehide', () => {
  // Hand everything in flight back to the SW (it retries or resumes over the relay) and free the agent's peer.
  requests.abortAll();
  sw.announce({ p2p: false });
  p2p.stop('page closed');
  stopDiagnostics();
});
window.addEventListener('pageshow', (ev) => {
  // Restored from the back/forward cache with a stopped channel: start over.
  if (ev.persisted) location.reload();
});

void sw.controlled.then(async (controlled) => {
  mark(controlled ? 'sw-controls' : 'sw-unavailable');
  if (config.private) await privateAppReady(p2p);
  frame.load(appPath(here, [BADGE_QUERY_PARAM]));
});
// The inline script may have started the app already; its initial about:blank "loads" too and does not count.
// A cross-origin document in the frame throws: not loaded.
const appLoaded = () =>
  quietly(() => frame.element.contentWindow?.location.protocol !== 'about:' && frame.element.contentDocument?.readyState === 'complete') === true;
if (appLoaded()) mark('frame-load');
else frame.element.addEventListener('load', () => appLoaded() && mark('frame-load'));
p2p.start();
