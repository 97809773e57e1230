/**
 * The shell's inline script (dist/shell-inline.js, inlined in every shell page, within bundle-budget.mjs):
 * what must not wait for client.js. It names the shell and holds the frame's messages, starts the P2P attempt
 * before the frame, creates the frame with its src set, on a first visit registers the SW and fetches the app's
 * document meanwhile, and loads client.js. What each measured: docs/browser-client.md §Decision: a long-lived shell.
 */
import { BADGE_QUERY_PARAM, CLIENT_PATH, SW_COOKIE_MERGE_HEADER, SW_PATH, SW_SCOPE, VIA_HEADER, VIA_SW } from '@wingman/protocol';
import type { EarlyDocument, EarlyDocumentAnswer } from '../shared/messages';
import { P2PAttempt } from './attempt';
import { takeLinkKey } from './link-key';
import { EARLY_FRAME_MESSAGES_MAX, type HandoverWindow } from './shell-handover';
import { linkTrustKeys } from './signal-out';
import { mark } from './timeline';
import { quietly } from '../shared/quietly';

/**
 * On a first visit client.js is loaded once the SW controls, or after this long: loaded at once, it shared
 * the connection's first round trips with sw.js and the app's document, and the SW took control 150–250 ms later.
 */
const CLIENT_FIRST_VISIT_DELAY_MAX_MS = 1_500;

/** How long the frame waits for the SW's ack of the early document's port (one message each way: ~1 ms). */
const EARLY_DOC_ACK_WAIT_MS = 500;

/** Bytes of randomness in the shell's name: 96 bits, unique among a browser's windows. */
const SHELL_ID_BYTES = 12;

/** Features the app in the frame may use, as at the top level (a same-origin frame gets most by default). */
const FRAME_ALLOW = 'fullscreen; clipboard-read; clipboard-write; camera; microphone; geolocation; display-capture; autoplay; picture-in-picture; web-share';

/** The early document's request: what the SW's relay fetch sends, so the tunnel server bridges its cookies. */
const EARLY_FETCH_HEADERS: Record<string, string> = {
  [VIA_HEADER]: VIA_SW,
  [SW_COOKIE_MERGE_HEADER]: '1',
  // What a browser sends for a document: dev servers pick their HTML answer from Accept.
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
};

// When this script started: what came before it is the browser's.
mark('inline');
const win = window as HandoverWindow;
// First: out of the visible URL (and out of the app's) before anything reads it.
const linkKey = takeLinkKey();
// Undefined outside a secure context.
const container = navigator.serviceWorker as ServiceWorkerContainer | undefined;
const frame = document.createElement('iframe');
const idBytes = crypto.getRandomValues(new Uint8Array(SHELL_ID_BYTES));
win.__wingmanShell = {
  id: Array.from(idBytes, (x) => x.toString(16).padStart(2, '0')).join(''),
  ...(linkKey !== undefined ? { linkKey } : {}),
  frameMessages: holdFrameMessages(),
};

const appUrl = new URL(location.href);
appUrl.searchParams.delete(BADGE_QUERY_PARAM);
const appPath = appUrl.pathname + appUrl.search;
frame.id = 'wingman-frame';
frame.title = 'app';
frame.setAttribute('allow', FRAME_ALLOW);
frame.allowFullscreen = true;
// The frame's own request for the app's document (one the SW did not fetch ahead) would name the shell, i.e. the
// app's own URL, as its Referer, and the app's document.referrer would say the same; a document the browser loads at
// the top level by its address has neither.
frame.referrerPolicy = 'no-referrer';

/** A private session (`wingman http --private`): client.js starts the app once its channel is verified (private-start.ts). */
const privateSession = document.documentElement.hasAttribute('data-wingman-private');

/** What the app posts to the shell before client.js listens (a WebSocket opened while it parses), held for it, bounded. */
function holdFrameMessages(): { take(): MessageEvent[] } {
  const held: MessageEvent[] = [];
  const hold = (ev: MessageEvent) => {
    if (ev.origin === location.origin && held.length < EARLY_FRAME_MESSAGES_MAX) held.push(ev);
  };
  window.addEventListener('message', hold);
  return {
    take() {
      window.removeEventListener('message', hold);
      return held.splice(0);
    },
  };
}

function startApp(): void {
  if (!privateSession && !frame.getAttribute('src')) frame.src = appPath + appUrl.hash;
}

let clientLoading = false;
/** client.js runs once the document is parsed (as a deferred script would), loaded once. */
function loadClient(): void {
  if (clientLoading) return;
  clientLoading = true;
  const script = document.createElement('script');
  script.src = CLIENT_PATH;
  if (document.readyState !== 'loading') document.head.appendChild(script);
  else document.addEventListener('DOMContentLoaded', () => document.head.appendChild(script));
}

function preloadClient(): void {
  const link = document.createElement('link');
  link.rel = 'preload';
  link.as = 'script';
  link.href = CLIENT_PATH;
  document.head.appendChild(link);
}

/** Hands the early document's response to the SW on `port` (0: none). */
function handOver(port: MessagePort, response: Promise<Response>): void {
  response.then(
    (r) => {
      const answer: EarlyDocumentAnswer = { status: r.status, headers: [...r.headers], body: r.body };
      try {
        port.postMessage(answer, r.body ? [r.body] : []);
      } catch {
        // Where streams do not transfer: the body whole.
        r.arrayBuffer().then(
          (bytes) => port.postMessage({ ...answer, body: bytes }, [bytes]),
          () => port.postMessage(0),
        );
      }
    },
    () => port.postMessage(0),
  );
}

/** A first visit: the SW registered here, the app's document fetched meanwhile, the frame started once the SW controls. */
function firstVisit(sw: ServiceWorkerContainer): void {
  setTimeout(loadClient, CLIENT_FIRST_VISIT_DELAY_MAX_MS);
  if (privateSession) {
    // No early document: the relay would refuse it.
    sw.addEventListener('controllerchange', loadClient, { once: true });
    sw.register(SW_PATH, { scope: SW_SCOPE }).catch(loadClient);
    return;
  }
  const early = fetch(appPath, { headers: EARLY_FETCH_HEADERS, cache: 'no-store' });
  early.catch(() => undefined);
  sw.addEventListener(
    'controllerchange',
    () => {
      // The frame started without the SW (client.js, past its wait) and fetched its own document: none to hand over.
      if (frame.getAttribute('src')) return void loadClient();
      const channel = new MessageChannel();
      // The frame starts once the SW has the port (its ack), so its navigation cannot overtake the message.
      channel.port1.onmessage = startApp;
      setTimeout(startApp, EARLY_DOC_ACK_WAIT_MS);
      sw.controller?.postMessage({ type: 'wingman:early-doc', url: appPath } satisfies EarlyDocument, [channel.port2]);
      loadClient();
      handOver(channel.port1, early);
    },
    { once: true },
  );
  sw.register(SW_PATH, { scope: SW_SCOPE }).catch(loadClient);
}

// The P2P attempt first: its socket's round trips then overlap the frame's start (appending it starts its navigation at once).
if (document.documentElement.hasAttribute('data-wingman-p2p') && typeof RTCPeerConnection === 'function' && typeof WebSocket === 'function') {
  // Any failure here leaves the attempt to client.js.
  win.__wingmanShell.attempt = quietly(() => new P2PAttempt(linkTrustKeys(linkKey)));
}
if (!container || container.controller) {
  preloadClient();
  loadClient();
}
if (container) {
  if (container.controller) startApp();
  else firstVisit(container);
}
document.documentElement.appendChild(frame);
