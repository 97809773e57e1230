/**
 * An HTTP cache for responses that came over P2P. The browser's own cache
 * keeps what the relay brings (the SW's relay fetch goes through it), but a
 * response the Service Worker builds from channel bytes never enters it: a
 * reload would fetch every module whole again, pre-bundled dependencies
 * marked `immutable` included. This cache gives P2P responses the semantics
 * of a private browser cache (RFC 9111, through the `http-cache-semantics`
 * library): freshness, `immutable`, `no-cache`/`no-store`, `Vary`, and
 * conditional revalidation — a stale entry's validators go with the request
 * over the channel, and a 304 is answered from the entry with its headers
 * updated. Entries live in the Cache API (CACHE_NAME), at most
 * HTTP_CACHE_MAX_ENTRY_BYTES each and HTTP_CACHE_MAX_BYTES in all (the
 * oldest go first), and are dropped when a new Service Worker version
 * activates or the session stops serving this viewer its shell (sw.ts).
 * Only what could answer a later request is kept (reusable()). `Set-Cookie`
 * is never stored (a cached response must not set cookies again, as a
 * browser cache does not). The route header of its answers:
 * route-decision.ts (`cache; reason=fresh|revalidated`).
 * @see https://www.rfc-editor.org/rfc/rfc9111
 */
import CachePolicy from 'http-cache-semantics';
import type { WireHeaders } from '../shared/messages';

/** The Cache Storage name; a new format gets a new name, and activate() removes the others. */
export const CACHE_NAME = 'wingman-http-v1';
/** A response larger than this is not kept, bytes (bulk transfers would push out the modules a reload needs). */
export const HTTP_CACHE_MAX_ENTRY_BYTES = 8 * 1024 * 1024;
/** All entries together, bytes: a large app's modules (Vite's pre-bundled React is ~3 MB) many times over. */
export const HTTP_CACHE_MAX_BYTES = 256 * 1024 * 1024;
/** Stored beside each entry: its policy (JSON) and its body's size. */
const POLICY_HEADER = 'x-wingman-cache-policy';
const BYTES_HEADER = 'x-wingman-cache-bytes';
/** Request fields that make the app's own request conditional or partial: such a request bypasses the cache. */
const APP_CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'];
/** Fields never stored with an entry. */
const NOT_STORED = new Set(['set-cookie', 'set-cookie2']);

type HeaderObject = Record<string, string>;

function toObject(headers: WireHeaders): HeaderObject {
  const out: HeaderObject = {};
  for (const [n, v] of headers) out[n] = n in out ? `${out[n]}, ${v}` : v;
  return out;
}

/** Header object (the policy's) → list; http-cache-semantics may give arrays for repeated fields. */
function toList(headers: Record<string, string | string[] | undefined>): WireHeaders {
  const out: WireHeaders = [];
  for (const [n, v] of Object.entries(headers)) {
    if (v === undefined || NOT_STORED.has(n) || n === POLICY_HEADER || n === BYTES_HEADER) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([n, one]);
  }
  return out;
}

export interface CacheRequest {
  url: string;
  method: string;
  /** The head as it goes over P2P (cookie included: a response may vary on it). */
  headers: WireHeaders;
  /** The page's cache mode (Request.cache). */
  mode: RequestCache;
}

export interface CachedResponse {
  status: number;
  headers: WireHeaders;
  body: ReadableStream<Uint8Array>;
}

export type Lookup =
  /** Not for this cache (a conditional or partial request, a cache mode that skips caches, not a GET): go as usual. */
  | { kind: 'bypass' }
  /** Nothing usable: go as usual, then offer the response to store(). */
  | { kind: 'miss' }
  /** A fresh entry: the page gets it without a request. */
  | { kind: 'fresh'; response: CachedResponse }
  /** A stale entry: add `conditional` to the request, then hand the answer to revalidated(). */
  | { kind: 'stale'; conditional: WireHeaders; entry: Entry };

export interface Entry {
  policy: CachePolicy;
  response: Response;
}

export interface HttpCache {
  /**
   * A fresh entry for `url`, whichever path the request would take (a
   * reload's first requests go over the relay while the channel comes up);
   * `request` is built only when there is an entry, with the Cookie header
   * only when the entry varies on it (reading it back costs a Cookie Store
   * call per request, and a reload's module burst is hundreds).
   */
  fresh(url: string, request: (withCookie: boolean) => Promise<CacheRequest>): Promise<CachedResponse | undefined>;
  lookup(request: CacheRequest): Promise<Lookup>;
  /**
   * The response to a stale entry's conditional request: a 304 that leaves
   * the body as it was gives the entry's body with updated headers (and
   * updates the entry); anything else is the answer itself (undefined here).
   */
  revalidated(request: CacheRequest, entry: Entry, status: number, headers: WireHeaders): Promise<CachedResponse | undefined>;
  /** Offers a response that came over P2P; returns the body the page reads (the cache reads a copy when it keeps the response). */
  store(request: CacheRequest, status: number, headers: WireHeaders, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  /** Drops every entry of every version (a new Service Worker activated). */
  clear(): Promise<void>;
}

const policyRequest = (r: CacheRequest) => ({ url: r.url, method: r.method, headers: toObject(r.headers) });

export function bypasses(request: CacheRequest): boolean {
  if (request.method !== 'GET') return true;
  if (request.mode === 'no-store' || request.mode === 'reload') return true;
  return request.headers.some(([n]) => APP_CONDITIONAL.includes(n));
}

/**
 * A 304 to the conditional request built from an entry whose policy is
 * `policy`: the head the page gets (the entry's, updated by the 304's
 * fields), and the policy to keep the entry with (undefined: drop it).
 * The conditional request carried this entry's validators and no other, so
 * a 304 that names no validator of its own is about this entry — as a
 * browser's cache takes it (Vite's dev server, for one, answers a bare 304
 * without ETag). A 304 naming a different validator updates nothing
 * (RFC 9111 §4.3.4): the page gets the entry as it was, and the entry goes.
 */
export function notModified(policy: CachePolicy, request: CachePolicy.Request, headers: WireHeaders): { head: WireHeaders; keep: CachePolicy | undefined } {
  const response = toObject(headers);
  if (response.etag === undefined && response['last-modified'] === undefined) {
    const stored = policy.responseHeaders();
    for (const n of ['etag', 'last-modified'] as const) {
      const v = stored[n];
      if (typeof v === 'string') response[n] = v;
    }
  }
  const next = policy.revalidatedPolicy(request, { status: 304, headers: response });
  if (!next.matches) return { head: toList(policy.responseHeaders()), keep: undefined };
  return { head: toList(next.policy.responseHeaders()), keep: next.policy };
}

/**
 * Worth a copy: storable, and either fresh for a while or revalidatable. A
 * response with neither (an API answer without Cache-Control or validators)
 * could never answer a later request, so it costs no Cache API write.
 */
export function reusable(policy: CachePolicy): boolean {
  if (!policy.storable()) return false;
  const h = policy.responseHeaders();
  return policy.timeToLive() > 0 || typeof h.etag === 'string' || typeof h['last-modified'] === 'string';
}

export function createHttpCache(storage: CacheStorage | undefined): HttpCache {
  let opened: Promise<Cache> | undefined;
  /** Bytes of all entries, summed once per SW life from the entries themselves. */
  let totalBytes: number | undefined;
  const open = () => (opened ??= storage!.open(CACHE_NAME));

  async function read(url: string): Promise<Entry | undefined> {
    const response = await (await open()).match(url);
    const raw = response?.headers.get(POLICY_HEADER);
    if (!response || !raw) return undefined;
    try {
      return { policy: CachePolicy.fromObject(JSON.parse(raw) as CachePolicy.CachePolicyObject), response };
    } catch {
      return undefined;
    }
  }

  async function put(url: string, policy: CachePolicy, status: number, body: Blob): Promise<void> {
    const cache = await open();
    if (totalBytes === undefined) {
      totalBytes = 0;
      for (const key of await cache.keys()) totalBytes += Number((await cache.match(key))?.headers.get(BYTES_HEADER) ?? 0);
    }
    const previous = Number((await cache.match(url))?.headers.get(BYTES_HEADER) ?? 0);
    const headers = new Headers();
    for (const [n, v] of toList(policy.responseHeaders())) headers.append(n, v);
    headers.set(POLICY_HEADER, JSON.stringify(policy.toObject()));
    headers.set(BYTES_HEADER, String(body.size));
    await cache.put(url, new Response(body, { status, headers }));
    totalBytes += body.size - previous;
    // Oldest first (Cache keys keep insertion order), until the cap holds again.
    if (totalBytes > HTTP_CACHE_MAX_BYTES) {
      for (const key of await cache.keys()) {
        if (totalBytes <= HTTP_CACHE_MAX_BYTES) break;
        if (key.url === url) continue;
        totalBytes -= Number((await cache.match(key))?.headers.get(BYTES_HEADER) ?? 0);
        await cache.delete(key);
      }
    }
  }

  async function remove(url: string): Promise<void> {
    const cache = await open();
    const bytes = Number((await cache.match(url))?.headers.get(BYTES_HEADER) ?? 0);
    if (await cache.delete(url)) totalBytes = totalBytes === undefined ? undefined : totalBytes - bytes;
  }

  const entryResponse = async (entry: Entry, headers: WireHeaders): Promise<CachedResponse> => ({
    status: entry.response.status,
    headers,
    body: entry.response.body ?? new Blob([]).stream(),
  });

  return {
    async fresh(url, request) {
      if (!storage) return undefined;
      const entry = await read(url).catch(() => undefined);
      if (!entry) return undefined;
      const vary = String(entry.policy.responseHeaders().vary ?? '').toLowerCase();
      const r = await request(vary === '*' || vary.split(',').some((n) => n.trim() === 'cookie'));
      if (bypasses(r) || r.mode === 'no-cache' || !entry.policy.satisfiesWithoutRevalidation(policyRequest(r))) return undefined;
      return entryResponse(entry, toList(entry.policy.responseHeaders()));
    },

    async lookup(request) {
      if (!storage || bypasses(request)) return { kind: 'bypass' };
      const entry = await read(request.url).catch(() => undefined);
      if (!entry) return { kind: 'miss' };
      const req = policyRequest(request);
      if (request.mode !== 'no-cache' && entry.policy.satisfiesWithoutRevalidation(req))
        return { kind: 'fresh', response: await entryResponse(entry, toList(entry.policy.responseHeaders())) };
      const all = entry.policy.revalidationHeaders(req) as Record<string, string | undefined>;
      const conditional: WireHeaders = [];
      for (const n of ['if-none-match', 'if-modified-since']) if (all[n]) conditional.push([n, all[n]!]);
      // Nothing to validate with: fetch it whole.
      if (conditional.length === 0) return { kind: 'miss' };
      return { kind: 'stale', conditional, entry };
    },

    async revalidated(request, entry, status, headers) {
      if (status !== 304) return undefined;
      const { head, keep } = notModified(entry.policy, policyRequest(request), headers);
      const body = await entry.response.clone().blob();
      // The page gets the stored body with the updated head; the entry is kept with its new freshness (or dropped).
      if (keep) void put(request.url, keep, entry.response.status, body).catch(() => undefined);
      else void remove(request.url).catch(() => undefined);
      return { status: entry.response.status, headers: head, body: body.stream() };
    },

    store(request, status, headers, body) {
      if (!storage || bypasses(request)) return body;
      const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? NaN);
      if (!(length >= 0 && length <= HTTP_CACHE_MAX_ENTRY_BYTES)) return body;
      const policy = new CachePolicy(policyRequest(request), { status, headers: toObject(headers) }, { shared: false });
      if (!reusable(policy)) return body;
      const [page, copy] = body.tee();
      void new Response(copy)
        .blob()
        .then((blob) => (blob.size === length ? put(request.url, policy, status, blob) : undefined))
        .catch(() => undefined);
      return page;
    },

    async clear() {
      if (!storage) return;
      opened = undefined;
      totalBytes = undefined;
      for (const name of await storage.keys()) if (name.startsWith('wingman-http-')) await storage.delete(name);
    },
  };
}
