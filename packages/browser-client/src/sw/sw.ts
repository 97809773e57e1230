/**
 * Service Worker entry: wiring only. Scope "/" of the session origin
 * (registered by the shell; the script is served with
 * Service-Worker-Allowed: /). Routing: router.ts. State that must survive a
 * SW restart (cookies) is in IndexedDB; the shell registry is rebuilt by
 * asking the windows (shell-registry.ts).
 */
import {
  ABORT_ID_HEADER,
  BODY_BYTES_HEADER,
  CLIENT_PATH,
  RESPONSE_HEAD_TIMEOUT_MS,
  SHIM_PATH,
  WINGMAN_CACHE_PREFIX,
  WINGMAN_PREFIX,
} from '../shared/constants';
import {
  parseEarlyDocumentAnswer,
  parseWindowToSw,
  type CookieWrite,
  type EarlyDocumentAnswer,
  type WsTicketReply,
  type PathsUpdate,
} from '../shared/messages';
import { createAbortRegistry } from './abort-registry';
import { createSwCookies } from './cookies';
import { COOKIE_STORE_TIMEOUT_MS, type CookieStoreLike } from './cookie-store';
import { errorResponse } from './error-response';
import { createFramePrefetch } from './frame-prefetch';
import { PathChooser } from './path-choice';
import { createLossVerdicts } from './loss-verdicts';
import { createKvStore, type KvStore } from './idb';
import { answerDiagnostics, createRouteCounter } from './route-counts';
import { EventStreamIds } from './event-stream-ids';
import { RedirectFollowUps } from './redirect-follow-ups';
import type { Obtained } from './obtained';
import { handleRequest, obtain, sameSiteContext, shouldHandle } from './router';
import { leaveToBrowser } from './route-decision';
import { createShellRegistry, type ChannelMemory } from './shell-registry';
import { createShellCopy } from './shell-copy';
import { mintWsTicket } from './ws-ticket';

declare const self: ServiceWorkerGlobalScope;
/** The shim's code, embedded by build.mjs: served from here, a frame load never waits on the network for it. */
declare const __WINGMAN_SHIM__: string;

const kv = createKvStore();
const registry = createShellRegistry(self, channelMemory(kv));
const cookieStore = (self as unknown as { cookieStore?: CookieStoreLike }).cookieStore;
const cookies = createSwCookies(kv, self.location.hostname, cookieStore, writeCookiesInShell, self.location.protocol === 'https:');
const aborts = createAbortRegistry();
const prefetch = createFramePrefetch(self.location.origin);
// One per Service Worker, i.e. per session origin: the paths' figures are this session's.
const paths = new PathChooser();
const lossVerdicts = createLossVerdicts(paths);
const routes = createRouteCounter();
answerDiagnostics(routes, () => registry.shellsWithChannel());
const shellCopy = createShellCopy(kv, self.location.origin, fetch);
const deps = {
  scope: self,
  registry,
  cookies,
  aborts,
  prefetch,
  paths,
  routes,
  eventStreams: new EventStreamIds(),
  followUps: new RedirectFollowUps(),
};

/**
 * Has a shell window write `document.cookie` assignments (the cookie mirror
 * where the Cookie Store API does not write: cookie-mirror.ts). Only shells:
 * the app's own documents must never see Wingman's messages. A shell that
 * announced itself is asked first; otherwise every top-level window of the
 * origin (each is a shell: the app's documents are their frames), which
 * covers a new shell whose frame's request comes before its announcement.
 * Resolves false when none answered within COOKIE_STORE_TIMEOUT_MS.
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
  return new Promise<boolean>((resolve) => {
    const channels: MessagePort[] = [];
    const timer = setTimeout(() => done(false), COOKIE_STORE_TIMEOUT_MS);
    function done(ok: boolean) {
      clearTimeout(timer);
      for (const p of channels) p.close();
      resolve(ok);
    }
    for (const send of targets) {
      const { port1, port2 } = new MessageChannel();
      channels.push(port1);
      port1.onmessage = () => done(true);
      send(port2);
    }
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
 * routing (Chromium ≥ 123): no SW start-up or dispatch on the path to a
 * usable channel. Top-level navigations reach the SW: it answers them with
 * its copy of the shell (shell-copy.ts) and starts the frame's document at
 * once (frame-prefetch.ts); without a copy they go to the network, the
 * tunnel server sending the shell.
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
// A new version starts afresh: its copy of the shell, and none of the Cache Storage an earlier version kept.
self.addEventListener('activate', (event) => event.waitUntil(Promise.all([self.clients.claim(), shellCopy.clear(), dropOtherCaches().catch(() => undefined)])));

/** Deletes Cache Storage under Wingman's prefix: this version keeps none, an earlier one may have. */
async function dropOtherCaches(): Promise<void> {
  for (const name of await self.caches.keys()) if (name.startsWith(WINGMAN_CACHE_PREFIX)) await self.caches.delete(name);
}

self.addEventListener('message', (event) => {
  const source = event.source;
  if (!source || !('id' in source) || (event.origin && event.origin !== self.location.origin)) return;
  const m = parseWindowToSw(event.data);
  if (!m) return;
  const client = source;
  switch (m.type) {
    case 'wingman:shell': {
      lossVerdicts.announced(m);
      registry.shellAnnounced(m, client, event.ports[0]);
      // A shell runs: keep a copy for the session's next navigation, if none is at hand yet.
      if (!shellCopy.response()) event.waitUntil(shellCopy.refresh());
      // A shell that just started (a reload, another tab) learns which classes already go over the relay: its badge says so.
      const { preferred } = deps.paths;
      if (preferred.small !== 'p2p' || preferred.bulk !== 'p2p') client.postMessage({ type: 'wingman:paths', ...preferred } satisfies PathsUpdate);
      return;
    }
    case 'wingman:frame':
      registry.frameAnnounced(m, client);
      return;
    case 'wingman:abort':
      aborts.abort(m.id);
      return;
    case 'wingman:ws-ticket': {
      const port = event.ports[0];
      if (!port) return;
      const reply = (ticket: string) => port.postMessage({ ticket } satisfies WsTicketReply);
      event.waitUntil(mintWsTicket(m.url, self.location.origin, cookies).then(reply, () => reply('')));
      return;
    }
    case 'wingman:early-doc': {
      const port = event.ports[0];
      if (!port) return;
      prefetch.adopt(new URL(m.url, self.location.origin).href, adoptEarlyDocument(new URL(m.url, self.location.origin), port));
      // The shell starts the frame on this ack: its navigation then finds the adopted document.
      port.postMessage('ack');
      return;
    }
    case 'wingman:cookie': {
      const port = event.ports[0];
      if (!port) return;
      let url: URL;
      try {
        url = new URL(m.url, self.location.origin);
      } catch {
        return port.postMessage({ header: '' });
      }
      if (url.origin !== self.location.origin) return port.postMessage({ header: '' });
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

/**
 * A first visit's app document that the shell fetched while this SW
 * installed (page/shell-inline.ts), coming on `port`, as the relay's answer to the
 * frame's navigation. Used only when the jar holds nothing the browser's
 * own jar lacks for that URL: then the shell's fetch carried exactly the
 * cookies the SW's relay fetch would have. Otherwise (a jar kept in
 * IndexedDB from an earlier registration), or when the shell's fetch
 * failed, the frame's navigation is fetched as any other.
 */
function adoptEarlyDocument(url: URL, port: MessagePort): Promise<Obtained> {
  const answer = new Promise<EarlyDocumentAnswer>((resolve, reject) => {
    const timer = setTimeout(() => done(undefined), RESPONSE_HEAD_TIMEOUT_MS);
    function done(a: EarlyDocumentAnswer | undefined) {
      clearTimeout(timer);
      port.close();
      if (a) resolve(a);
      else reject(new Error("the shell's early fetch brought no document"));
    }
    port.onmessage = (ev: MessageEvent) => done(parseEarlyDocumentAnswer(ev.data));
  });
  return answer.then(async (a) => {
    try {
      if (url.origin !== self.location.origin || url.pathname.startsWith(WINGMAN_PREFIX)) throw new Error('not an app URL');
      if ((await cookies.relayHeaderFor(url, { crossSite: false, safeTopLevelNavigation: true })) !== '')
        throw new Error("the SW's jar has cookies the shell's fetch lacked");
      const headers = new Headers();
      for (const [name, value] of a.headers) headers.append(name, value);
      return { kind: 'relay', res: new Response(a.body, { status: a.status, headers }) };
    } catch (err) {
      if (a.body instanceof ReadableStream) void a.body.cancel().catch(() => undefined);
      throw err;
    }
  });
}

/** A top-level navigation to an app URL of this session: what the tunnel server answers with the shell. */
function isAppNavigation(request: Request, url: URL): boolean {
  return (
    request.method === 'GET' &&
    request.mode === 'navigate' &&
    request.destination === 'document' &&
    url.origin === self.location.origin &&
    !url.pathname.startsWith(WINGMAN_PREFIX)
  );
}

/** The SW jar's header for the relay as "has cookies the browser lacks"; undefined while the jar is not read. */
function cookiesToAdd(relayHeader: string | undefined): boolean | undefined {
  return relayHeader === undefined ? undefined : relayHeader !== '';
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin === self.location.origin && url.pathname === SHIM_PATH && request.method === 'GET') {
    event.respondWith(new Response(__WINGMAN_SHIM__, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } }));
    return;
  }
  if (!shouldHandle(request, url, self.location.origin)) {
    // A top-level navigation starts its frame's document now,
    const work = prefetch.start(request, (signal) => obtain(request, url, '', event.resultingClientId, deps, signal, true));
    if (work) event.waitUntil(work);
    // and gets the shell from the SW's copy when one is at hand (the network otherwise), a new copy for next time.
    if (isAppNavigation(request, url)) {
      event.waitUntil(shellCopy.refresh());
      // The frame's document fetched ahead goes over the relay (route-decision.ts rule 3b), never through the
      // page being left: nothing waits for that page, which the copy unloads within milliseconds.
      const copy = shellCopy.response();
      if (copy) event.respondWith(copy);
    }
    return;
  }
  // P2P stalls and no channel is up, or this request would share the stalling channel: the relay it is, and the
  // browser's own request gets there without the SW's hops.
  const channel = registry.hasChannelNow();
  const leave = leaveToBrowser({
    method: request.method.toUpperCase(),
    navigation: request.mode === 'navigate',
    destination: request.destination,
    tagged: request.headers.has(ABORT_ID_HEADER) || request.headers.has(BODY_BYTES_HEADER),
    settled: channel !== undefined,
    channel: channel ?? false,
    privateWaiting: registry.privateWithoutChannel(),
    p2pStalls: paths.stalls('p2p'),
    probing: registry.probingNow(),
    cookiesToAdd: cookiesToAdd(cookies.relayHeaderNow(url, sameSiteContext(request, url))),
    othersInFlight: paths.othersInFlight(false),
    cls: paths.requestClass({ method: request.method.toUpperCase(), target: url.pathname + url.search, hasRange: request.headers.has('range') }),
  });
  if (leave) {
    routes.count('relay', 'to-browser');
    return;
  }
  // Counted from here, so the next fetch event of a burst sees this one (route-decision.ts othersInFlight).
  const release = paths.take();
  event.respondWith(
    handleRequest(event, deps).then(
      (res) => {
        release();
        return res;
      },
      (err: unknown) => {
        release();
        if (request.signal.aborted) return Response.error();
        return errorResponse(
          502,
          'ERR_UPSTREAM_UNREACHABLE',
          `Neither the peer-to-peer channel nor the relay could serve this request (${(err as Error)?.message ?? String(err)}).`,
        );
      },
    ),
  );
});
