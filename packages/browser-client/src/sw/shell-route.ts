/**
 * The shell for a navigation the stopped Service Worker never sees. A browser
 * stops an idle worker within a minute; starting it again for a reload costs
 * its start-up, and its copy of the shell (shell-copy.ts) is read from
 * IndexedDB only after the fetch event had to choose, so until now such a
 * reload went to the tunnel server for its shell: one round trip to the
 * server before the shell's script could start its peer connection.
 *
 * Where the browser has static routing, a rule added at install
 * (shellRouteRule) answers a top-level navigation made while the worker is
 * not running from Cache Storage, without starting it; a URL the cache does
 * not hold goes to the network, as before. The cache holds the copy under
 * each URL a shell announced itself at (the shell is the same document for
 * every path of a session), at most SHELL_ROUTE_MAX_URLS of them, the most
 * recent kept. It follows the copy: emptied when the copy changes or is
 * dropped (a withdrawn session, a new SW version), filled again as shells
 * announce themselves.
 *
 * A navigation answered this way did not ask the server for the next copy
 * (shell-copy.ts refresh), which the fetch handler does on every navigation
 * it sees: the shell's announcement does it instead, for a shell whose
 * navigation the fetch handler did not see.
 */
import { WINGMAN_CACHE_PREFIX, WINGMAN_PREFIX } from '../shared/constants';
import type { ShellCopy } from './shell-copy';

/** Under Wingman's prefix: stepping aside for an app's own worker removes it (page/own-service-worker.ts). */
export const SHELL_ROUTE_CACHE = `${WINGMAN_CACHE_PREFIX}shell-v1`;

/** URLs kept (~17 KB each): a reviewer reloads a handful of pages. */
export const SHELL_ROUTE_MAX_URLS = 32;

/** Clients remembered per set (navigations seen, announcements handled): bounded, each shell needs its own only once. */
const MAX_CLIENTS = 64;

type UrlPatternCtor = new (init: { pathname: string }) => unknown;

/**
 * The static route: a top-level document navigation while the worker is not
 * running, to any path, is answered from SHELL_ROUTE_CACHE (the network when
 * it holds no entry for the URL). A running worker's fetch handler answers
 * such navigations itself (and starts the frame's document at once).
 */
export function shellRouteRule(Pattern: UrlPatternCtor): unknown {
  return {
    condition: { requestMode: 'navigate', requestDestination: 'document', runningStatus: 'not-running', urlPattern: new Pattern({ pathname: '/*' }) },
    source: { cacheName: SHELL_ROUTE_CACHE },
  };
}

/** The URL a navigation to `href` is looked up by, or undefined for a URL no shell is served at. */
export function shellRouteUrl(href: string, origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX)) return undefined;
  url.hash = '';
  return url.href;
}

export interface ShellRoute {
  /** The fetch handler saw the navigation that creates `clientId` (and asked for the next copy). */
  navigated(clientId: string): void;
  /**
   * A shell at `href` announced itself: asks for the next copy when its
   * navigation went around the fetch handler, then keeps the copy under its
   * URL. Once per client; never rejects.
   */
  announced(clientId: string, href: string): Promise<void>;
  /** Empties the cache (the copy changed or was dropped). Never rejects. */
  clear(): Promise<void>;
}

/** A set that forgets its oldest member past `max`. */
function boundedSet(max: number) {
  const members = new Set<string>();
  return {
    has: (id: string) => members.has(id),
    add(id: string) {
      members.delete(id);
      members.add(id);
      if (members.size > max) members.delete(members.values().next().value as string);
    },
  };
}

/**
 * `storage` undefined (no Cache Storage) or `routed` false (no static
 * routing: nothing would read the cache) makes every call a no-op but the
 * refresh of an unseen navigation.
 */
export function createShellRoute(storage: CacheStorage | undefined, routed: boolean, copy: ShellCopy, origin: string): ShellRoute {
  const seen = boundedSet(MAX_CLIENTS);
  const handled = boundedSet(MAX_CLIENTS);
  /** Bumped by clear(): a put that started before it must not bring back what it emptied. */
  let generation = 0;

  async function keep(url: string): Promise<void> {
    const started = generation;
    const res = copy.response();
    if (!storage || !routed || !res) return;
    const cache = await storage.open(SHELL_ROUTE_CACHE);
    if (started !== generation) return;
    await cache.put(url, res);
    if (started !== generation) return void (await cache.delete(url));
    // The Cache API lists entries in the order they were put (a put replaces its URL's entry at the end): the oldest go.
    const keys = await cache.keys();
    for (const old of keys.slice(0, Math.max(0, keys.length - SHELL_ROUTE_MAX_URLS))) await cache.delete(old);
  }

  return {
    navigated: (clientId) => {
      if (clientId) seen.add(clientId);
    },
    async announced(clientId, href) {
      if (handled.has(clientId)) return;
      handled.add(clientId);
      const url = shellRouteUrl(href, origin);
      if (!url) return;
      if (!seen.has(clientId)) await copy.refresh();
      // Lost on a failed write: that URL's next navigation with the worker stopped goes to the server.
      await keep(url).catch(() => undefined);
    },
    async clear() {
      generation += 1;
      if (!storage) return;
      await storage.delete(SHELL_ROUTE_CACHE).catch(() => undefined);
    },
  };
}
