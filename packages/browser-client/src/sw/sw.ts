/**
 * Service Worker entry: wiring only. Scope "/" of the session origin
 * (registered by the shell; the script is served with
 * Service-Worker-Allowed: /). Routing: router.ts. State that must survive a
 * SW restart (cookies) is in IndexedDB; the shell registry is rebuilt by
 * asking the windows (shell-registry.ts).
 */
import { CLIENT_PATH, SHIM_PATH } from '@wingman/protocol';
import { WINGMAN_CACHE_PREFIX } from '../shared/constants';
import { parseWindowToSw, type CookieWrite, type WsTicketReply, type PathsUpdate } from '../shared/messages';
import { createAbortRegistry } from './abort-registry';
import { createEarlyDocuments } from './early-document';
import { createSwCookies } from './cookies';
import { COOKIE_STORE_TIMEOUT_MS, type CookieStoreLike } from './cookie-store';
import { LossyPath } from './lossy-path';
import { PathChooser } from './path-choice';
import { createKvStore, type KvStore } from './idb';
import { answerDiagnostics, createRouteCounter } from './route-counts';
import { EventStreamIds } from './event-stream-ids';
import { RedirectFollowUps } from './redirect-follow-ups';
import { onFetch, type RouterDeps } from './router';
import { createShellRegistry, type ChannelMemory } from './shell-registry';
import { mintWsTicket } from './ws-ticket';
import { swSwitches } from './switches';
import { settleWithin } from '../shared/settle-within';
import { parseUrl } from '../shared/baseline';

declare const self: ServiceWorkerGlobalScope;
/** The shim's code, embedded by build.mjs: served from here, a frame load never waits on the network for it. */
declare const __WINGMAN_SHIM__: string;

const kv = createKvStore();
// One per Service Worker, i.e. per session origin: the paths' figures are this session's.
const lossy = new LossyPath();
const paths = new PathChooser(lossy);
const registry = createShellRegistry(self, channelMemory(kv), (shellId) => lossy.gone(shellId));
const cookieStore = (self as unknown as { cookieStore?: CookieStoreLike }).cookieStore;
const cookies = createSwCookies(kv, self.location.hostname, cookieStore, writeCookiesInShell, self.location.protocol === 'https:');
const aborts = createAbortRegistry();
const earlyDocuments = createEarlyDocuments(self.location.origin, cookies);
const routes = createRouteCounter();
answerDiagnostics(routes, () => ({ channels: registry.shellsWithChannel(), probing: [...lossy.pending] }));
const deps: RouterDeps = {
  scope: self,
  registry,
  cookies,
  aborts,
  earlyDocuments,
  paths,
  lossy,
  routes,
  eventStreams: new EventStreamIds(),
  followUps: new RedirectFollowUps(),
};

/**
 * Has a shell window write `document.cookie` assignments (cookie-mirror.ts):
 * an announced shell, else every top-level window of the origin (each is a
 * shell; a new one's frame may ask before it announced). Never the app's own
 * documents. Resolves false when none answered within COOKIE_STORE_TIMEOUT_MS.
 */
async function writeCookiesInShell(lines: string[]): Promise<boolean> {
  const message: CookieWrite = { type: 'wingman:cookie-write', lines };
  const known = await registry.anyShell();
  const targets: Array<(port: MessagePort) => void> = known
    ? [(port) => known.post(message, [port])]
    : (await self.clients.matchAll({ type: 'window', includeUncontrolled: true }))
        .filter((c) => c.frameType === 'top-level')
        .map((c) => (port: MessagePort) => c.postMessage(message, [port]));
  if (targets.length === 0) return false;
  return settleWithin(COOKIE_STORE_TIMEOUT_MS, false, (settle) => {
    const ports = targets.map((send) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => settle(true);
      send(port2);
      return port1;
    });
    return () => ports.forEach((p) => p.close());
  });
}

/** The windows whose shell had an open channel, kept across SW restarts (shell-registry.ts). */
function channelMemory(store: KvStore): ChannelMemory {
  const KEY = 'channel-windows';
  return {
    load: async () => {
      const ids = await store.get<unknown>(KEY);
      return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
    },
    // Lost on a failed write: a restart then waits for none of those windows, and their requests use the relay until they re-announce.
    save: (ids) => void store.put(KEY, ids).catch(() => undefined),
  };
}

self.addEventListener('install', (event) => {
  event.waitUntil(Promise.all([self.skipWaiting(), addStaticRoutes(event)]));
});

/**
 * The shell's script skips this SW entirely where the browser has static
 * routing (Chromium ≥ 123): no SW start-up or dispatch on the path to a channel.
 * @see https://developer.chrome.com/docs/web-platform/service-worker-static-routing
 */
async function addStaticRoutes(event: ExtendableEvent): Promise<void> {
  const add = (event as unknown as { addRoutes?: (rules: unknown[]) => Promise<void> }).addRoutes;
  const Pattern = (self as unknown as { URLPattern?: new (init: { pathname: string }) => unknown }).URLPattern;
  if (typeof add !== 'function' || !Pattern) return;
  try {
    await add.call(event, [{ condition: { urlPattern: new Pattern({ pathname: CLIENT_PATH }) }, source: 'network' }]);
  } catch {
    // A browser that refuses the rule: the SW sees the script's request and leaves it to the network (shouldHandle).
  }
}
/** Where an earlier version kept its copy of the shell, which this version neither keeps nor answers with. */
const OLD_SHELL_COPY_KEY = 'shell-copy';

// A new version starts afresh: none of the Cache Storage, nor the copy of the shell, an earlier version kept.
self.addEventListener('activate', (event) =>
  event.waitUntil(Promise.all([self.clients.claim(), dropOtherCaches().catch(() => undefined), kv.put(OLD_SHELL_COPY_KEY, null).catch(() => undefined)])),
);

/** Deletes Cache Storage under Wingman's prefix: this version keeps none, an earlier one may have. */
async function dropOtherCaches(): Promise<void> {
  for (const name of await self.caches.keys()) if (name.startsWith(WINGMAN_CACHE_PREFIX)) await self.caches.delete(name);
}

self.addEventListener('message', (event) => {
  const source = event.source;
  if (!source || !('id' in source) || (event.origin && event.origin !== self.location.origin)) return;
  const m = parseWindowToSw(event.data);
  if (!m) return;
  const port = event.ports[0];
  switch (m.type) {
    case 'wingman:shell': {
      // First: the routing of what comes next goes by the switches it carries.
      swSwitches.announced(m);
      lossy.announced(m);
      registry.shellAnnounced(m, source, port);
      // A shell that just started (a reload, another tab) learns which classes already go over the relay, and one that
      // outlived this worker (restarted with its figures afresh) that they no longer do: its badge says what is so.
      source.postMessage({ type: 'wingman:paths', ...paths.preferred } satisfies PathsUpdate);
      return;
    }
    case 'wingman:frame':
      registry.frameAnnounced(m, source);
      return;
    case 'wingman:abort':
      aborts.abort(m.id);
      return;
    case 'wingman:ws-ticket': {
      if (!port) return;
      const reply = (ticket: string) => port.postMessage({ ticket } satisfies WsTicketReply);
      event.waitUntil(mintWsTicket(m.url, self.location.origin, cookies).then(reply, () => reply('')));
      return;
    }
    case 'wingman:early-doc':
      if (!port) return;
      earlyDocuments.adopt(new URL(m.url, self.location.origin), port);
      // The shell starts the frame on this ack: its navigation then finds the adopted document.
      port.postMessage('ack');
      return;
    case 'wingman:cookie': {
      if (!port) return;
      const url = parseUrl(m.url, self.location.origin);
      if (url?.origin !== self.location.origin) return port.postMessage({ header: '' });
      event.waitUntil(
        cookies.headerFor(url, { crossSite: false, safeTopLevelNavigation: false }).then(
          (header) => port.postMessage({ header }),
          () => port.postMessage({ header: '' }),
        ),
      );
      return;
    }
  }
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin === self.location.origin && url.pathname === SHIM_PATH && request.method === 'GET') {
    event.respondWith(new Response(__WINGMAN_SHIM__, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } }));
    return;
  }
  onFetch(event, deps);
});
