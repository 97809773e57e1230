/**
 * The shell document: a full-viewport same-origin frame for the app and the
 * client script that owns the peer connection. It is served for top-level
 * navigations of P2P sessions (isBootstrapNavigation) at the app's own URL;
 * the client then loads that same URL in the frame. One inline script (its
 * hash is SHELL_INLINE_SCRIPT_SHA256), so a strict CSP on the tunnel
 * server's own pages stays possible.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  BADGE_QUERY_PARAM,
  CLIENT_PATH,
  DATA_CHANNEL_LABEL,
  SHELL_HEADER,
  SIGNAL_PATH,
  SW_COOKIE_MERGE_HEADER,
  SW_PATH,
  SW_SCOPE,
  VIA_HEADER,
  VIA_SW,
} from '@wingman/protocol';

export interface ShellOptions {
  /** The session id (a DNS label); shown nowhere, passed to the client for logs. */
  sessionId: string;
  /** Whether the session allows P2P (server and agent flags). When false the shell shows the app over the relay only. */
  p2p: boolean;
  /** Path prefixes the Service Worker must leave to the relay (developer excludes), e.g. ["/api/upload"]. */
  exclude?: string[];
  /** Show the status badge (the reviewer can still hide it). Default true. */
  badge?: boolean;
}

/** What the client reads from the page (validated again on its side). */
export interface ShellConfig {
  sessionId: string;
  p2p: boolean;
  exclude: string[];
  badge: boolean;
}

const SESSION_ID = /^[a-z0-9-]{1,63}$/;
const MAX_EXCLUDES = 64;

/** Throws a TypeError on options the caller got wrong (a bug on the server side, not viewer input). */
export function shellConfig(options: ShellOptions): ShellConfig {
  if (!SESSION_ID.test(options.sessionId)) throw new TypeError(`renderShell: sessionId must be a DNS label, got ${JSON.stringify(options.sessionId)}`);
  const exclude = options.exclude ?? [];
  if (exclude.length > MAX_EXCLUDES || !exclude.every((p) => typeof p === 'string' && p.startsWith('/') && p.length <= 512)) {
    throw new TypeError(`renderShell: exclude must be at most ${MAX_EXCLUDES} path prefixes starting with "/"`);
  }
  return { sessionId: options.sessionId, p2p: options.p2p === true, exclude, badge: options.badge !== false };
}

/** JSON safe inside <script>: no "</script>", no "<!--", no U+2028/2029 surprises. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Features the app in the frame may use. A same-origin frame already gets
 * most of them by default; listing them keeps apps that need them (camera,
 * clipboard, fullscreen) working as they do at the top level.
 */
const FRAME_ALLOW = 'fullscreen; clipboard-read; clipboard-write; camera; microphone; geolocation; display-capture; autoplay; picture-in-picture; web-share';

/**
 * Runs first in <head>, before client.js (the shell's script, ~60 KB) has
 * arrived:
 *  - names the shell (`window.__wingmanShell.id`, which client.js adopts),
 *    so the shim of an app document that arrives before client.js ran
 *    still finds its shell;
 *  - creates the app frame, appended to <html> because <body> does not
 *    exist yet (nothing else is rendered beside it). Measured here (bench/,
 *    static pages): a frame created by script with its src already set
 *    starts its navigation 30–40 ms earlier than a parser-inserted <iframe>
 *    whose src a later script sets (that one first loads about:blank);
 *  - starts the app in it once the Service Worker controls the shell: at
 *    once on later visits. On a first visit it registers the SW itself and
 *    starts the app at `controllerchange`, so neither waits for client.js
 *    (lab, far-server: client.js ran ~600 ms after navigation start); and
 *    it fetches the app's document meanwhile the way the SW's relay does
 *    (VIA_HEADER: the tunnel server bridges its cookies), handing it to the
 *    SW on a MessagePort as the SW takes control (the frame starts on the
 *    SW's ack): the document's round trip overlaps the SW's installation;
 *  - loads client.js: at once on later visits, on a first visit once the SW
 *    controls (CLIENT_FIRST_VISIT_DELAY_MAX_MS). The app never loads before the
 *    SW controls (its cookie jar is the only one the app's requests use);
 *    client.js registers again (the same registration) and loads the frame
 *    without the SW after SW_CONTROL_TIMEOUT_MS;
 *  - in a P2P session (`data-wingman-p2p` on <html>), starts the P2P attempt:
 *    the signaling WebSocket, and on the server's hello the peer connection,
 *    its data channel and the offer, trickling its candidates; the messages
 *    that arrive meanwhile (the answer, the agent's candidates) are kept for
 *    client.js, which takes the attempt over and applies them (browser-client
 *    `page/early-attempt.ts`). On a first visit the signaling round trips
 *    then overlap the wait for the SW instead of following it (lab,
 *    far-server: client.js ran ~0.4 s after this script).
 */
/**
 * On a first visit client.js (~22 KB gzipped) is loaded once the SW controls,
 * or after this long: loaded at once it shares the new connection's first
 * round trips (TCP slow start) with sw.js and the app's document, and the SW
 * took control 150–250 ms later (lab, far-server). P2P is an upgrade; the
 * app's first requests go over the relay either way.
 */
const CLIENT_FIRST_VISIT_DELAY_MAX_MS = 1_500;
/** How long the frame waits for the SW's ack of the early document's port (one message each way: ~1 ms). */
const EARLY_DOC_ACK_WAIT_MS = 500;
const EARLY_FETCH_HEADERS = JSON.stringify({
  [VIA_HEADER]: VIA_SW,
  [SW_COOKIE_MERGE_HEADER]: '1',
  // What a browser sends for a document: dev servers pick their HTML answer from Accept.
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
});
const INLINE_SCRIPT = [
  'var w=navigator.serviceWorker,f=document.createElement("iframe"),b=new Uint8Array(12),u=new URL(location.href),p;',
  'crypto.getRandomValues(b);window.__wingmanShell={id:Array.from(b,function(x){return(x<16?"0":"")+x.toString(16)}).join("")};',
  `u.searchParams.delete(${JSON.stringify(BADGE_QUERY_PARAM)});p=u.pathname+u.search;`,
  `f.id="wingman-frame";f.title="app";f.setAttribute("allow",${JSON.stringify(FRAME_ALLOW)});f.allowFullscreen=true;`,
  'function go(){if(!f.getAttribute("src"))f.src=p+u.hash}',
  // client.js runs once the document is parsed (as a deferred script would), loaded once (cj).
  `function cj(){if(cj.d)return;cj.d=1;var s=document.createElement("script");s.src=${JSON.stringify(CLIENT_PATH)};`,
  'if(document.readyState!=="loading")document.head.appendChild(s);else document.addEventListener("DOMContentLoaded",function(){document.head.appendChild(s)})}',
  `function pre(){var l=document.createElement("link");l.rel="preload";l.as="script";l.href=${JSON.stringify(CLIENT_PATH)};document.head.appendChild(l)}`,
  'if(!w||w.controller){pre();cj()}',
  'if(w){if(w.controller)go();else{',
  `setTimeout(cj,${CLIENT_FIRST_VISIT_DELAY_MAX_MS});`,
  `var e=fetch(p,{headers:${EARLY_FETCH_HEADERS},cache:"no-store"});e.catch(function(){});`,
  'w.addEventListener("controllerchange",function(){var c=new MessageChannel(),q=c.port1;',
  // The frame starts once the SW has the port (its ack), so its navigation cannot overtake the message.
  `q.onmessage=go;setTimeout(go,${EARLY_DOC_ACK_WAIT_MS});w.controller.postMessage({type:"wingman:early-doc",url:p},[c.port2]);cj();`,
  'e.then(function(r){var h=[],m;r.headers.forEach(function(v,k){h.push([k,v])});m={status:r.status,headers:h,body:r.body};',
  'try{q.postMessage(m,r.body?[r.body]:[])}catch(x){r.arrayBuffer().then(function(d){m.body=d;q.postMessage(m,[d])},function(){q.postMessage(0)})}',
  '},function(){q.postMessage(0)})},{once:true});',
  `w.register(${JSON.stringify(SW_PATH)},{scope:${JSON.stringify(SW_SCOPE)}}).catch(cj)}}`,
  'document.documentElement.appendChild(f);',
  // The early P2P attempt (see above). Any failure here leaves the attempt to client.js.
  'if(document.documentElement.hasAttribute("data-wingman-p2p")&&window.RTCPeerConnection&&window.WebSocket)try{(function(){',
  'var E={q:[],m:{}},s,k=function(n){if(!(n in E.m))E.m[n]=performance.now()};k("attempt");',
  `s=E.ws=new WebSocket((location.protocol==="https:"?"wss:":"ws:")+"//"+location.host+${JSON.stringify(SIGNAL_PATH)});`,
  'window.__wingmanShell.early=E;s.onopen=function(){k("signal-open")};',
  // Only the first message can be the hello; client.js validates it again when it replays the queue.
  's.onmessage=function(v){var h,c,pc,dc;E.q.push(v.data);if(E.q.length>1)return;try{h=JSON.parse(v.data)}catch(x){return}',
  'c=h&&h.type==="hello"&&h.p2p;if(!c||c.enabled!==true||!Array.isArray(c.iceServers))return;k("hello");',
  `try{pc=new RTCPeerConnection({iceServers:c.iceServers});dc=pc.createDataChannel(${JSON.stringify(DATA_CHANNEL_LABEL)},{ordered:true})}catch(x){if(pc)pc.close();return}`,
  'pc.onicecandidate=function(e){var d=e.candidate;if(d&&!d.candidate||s.readyState!==1)return;',
  's.send(JSON.stringify(d?{type:"ice-candidate",candidate:{candidate:d.candidate,sdpMid:d.sdpMid,sdpMLineIndex:d.sdpMLineIndex}}:{type:"end-of-candidates"}))};',
  'E.o=pc.createOffer().then(function(o){return pc.setLocalDescription(o)}).then(function(){s.send(JSON.stringify({type:"offer",sdp:pc.localDescription.sdp}));k("offer")});',
  'E.o.catch(function(){});E.pc=pc;E.dc=dc}',
  '})()}catch(x){}',
].join('');

/** CSP source for the shell's inline script: `script-src 'self' '<this>'`. */
export const SHELL_INLINE_SCRIPT_SHA256 = `sha256-${createHash('sha256').update(INLINE_SCRIPT).digest('base64')}`;

/** The shell page's HTML. */
export function renderShell(options: ShellOptions): string {
  const config = shellConfig(options);
  return `<!doctype html>
<html lang="en"${config.p2p ? ' data-wingman-p2p' : ''}>
<head>
<meta charset="utf-8">
<script>${INLINE_SCRIPT}</script>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wingman</title>
<style>html,body{margin:0;height:100%;overflow:hidden;background:#fff}#wingman-frame{position:fixed;inset:0;width:100%;height:100%;border:0;display:block}</style>
<script type="application/json" id="wingman-config">${scriptJson(config)}</script>
</head>
<body>
<noscript>This shared app needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Answers a bootstrap navigation, or the Service Worker's SHELL_PATH, with the
 * shell. Never in the HTTP cache: it must reflect the session's current P2P
 * setting. The SW keeps its own copy (SHELL_HEADER marks what it may keep)
 * and asks for a new one each time it answers a navigation with it.
 */
export function serveShell(res: ServerResponse, options: ShellOptions): void {
  if (res.headersSent) return;
  const body = Buffer.from(renderShell(options), 'utf8');
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    [SHELL_HEADER]: '1',
  });
  res.end(body);
}
