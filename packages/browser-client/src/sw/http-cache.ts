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
 * updated. Bodies live in the Cache API (CACHE_NAME), their policies in an
 * index held in memory and kept in IndexedDB; at most
 * HTTP_CACHE_MAX_ENTRY_BYTES each, HTTP_CACHE_MAX_BYTES and
 * HTTP_CACHE_MAX_ENTRIES in all (the oldest go first); dropped when a new
 * Service Worker version activates or the session stops serving this viewer
 * its shell (sw.ts). Only what is worth it is kept (worthKeeping()). `Set-Cookie`
 * is never stored (a cached response must not set cookies again, as a
 * browser cache does not). The route header of its answers:
 * route-decision.ts (`cache; reason=fresh|revalidated`).
 * @see https://www.rfc-editor.org/rfc/rfc9111
 */
import CachePolicy from 'http-cache-semantics';
import { WINGMAN_CACHE_PREFIX } from '../shared/constants';
import type { WireHeaders } from '../shared/messages';
import type { KvStore } from './idb';

/** The Cache Storage name; a new format gets a new name, and activate() removes the others. */
export const CACHE_NAME = `${WINGMAN_CACHE_PREFIX}v1`;
/** A response larger than this is not kept, bytes (bulk transfers would push out the modules a reload needs). */
export const HTTP_CACHE_MAX_ENTRY_BYTES = 8 * 1024 * 1024;
/** All entries together, bytes: a large app's modules (Vite's pre-bundled React is ~3 MB) many times over. */
export const HTTP_CACHE_MAX_BYTES = 256 * 1024 * 1024;
/** At most this many entries (the index of all of them is held in memory). */
export const HTTP_CACHE_MAX_ENTRIES = 4096;
/**
 * A response that is never fresh (`no-cache`, or stale at once) and smaller
 * than this is not kept, bytes: its 304 would save a few packets, and the
 * revalidation costs Cache API work on top of the same round trip (in the
 * lab, a far-server reload revalidating 308 small Vite modules took 1.3×
 * relay-only, against 1.0× fetching them whole). A fresh one is kept
 * whatever its size: it saves the round trip.
 */
export const HTTP_CACHE_REVALIDATE_MIN_BYTES = 16 * 1024;
/** The index's key in the Service Worker's IndexedDB store (idb.ts). */
const INDEX_KEY = 'http-cache-index';
/** The index is written this long after its last change. */
const INDEX_SAVE_DELAY_MS = 500;
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
    if (v === undefined || NOT_STORED.has(n)) continue;
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
  /** Whether store() would keep this response (a copy of its body). */
  keeps(request: CacheRequest, status: number, headers: WireHeaders): boolean;
  /** Offers a response that came over P2P; returns the body the page reads (the cache reads a copy when it keeps the response). */
  store(request: CacheRequest, status: number, headers: WireHeaders, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  /** Drops every entry of every version (a new Service Worker activated). */
  clear(): Promise<void>;
  /** Whether an entry for `url` is kept, at once (no storage call); undefined until the index has been read. */
  holdsNow(url: string): boolean | undefined;
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
 * Worth a copy: storable, and either fresh for a while, or revalidatable
 * and at least HTTP_CACHE_REVALIDATE_MIN_BYTES. A response with neither (an
 * API answer without Cache-Control or validators) could never answer a
 * later request, so it costs no Cache API write.
 */
export function worthKeeping(policy: CachePolicy, bytes: number): boolean {
  if (!policy.storable()) return false;
  if (policy.timeToLive() > 0) return true;
  const h = policy.responseHeaders();
  return bytes >= HTTP_CACHE_REVALIDATE_MIN_BYTES && (typeof h.etag === 'string' || typeof h['last-modified'] === 'string');
}

/**
 * True when the response's Cache-Control makes it never fresh (a `no-cache`
 * or `no-store` directive, no `stale-*` one): a response under
 * HTTP_CACHE_REVALIDATE_MIN_BYTES with it is not worth keeping, decided
 * without building its policy (a module wave of `no-cache` modules asks
 * this hundreds of times). False when it cannot tell.
 */
export function neverFresh(headers: WireHeaders): boolean {
  const names: string[] = [];
  for (const [n, v] of headers) if (n === 'cache-control') for (const d of v.split(',')) names.push(d.split('=', 1)[0]!.trim().toLowerCase());
  return names.some((n) => n === 'no-cache' || n === 'no-store') && !names.some((n) => n.startsWith('stale-'));
}

/** Request fields an entry keeps: what its freshness and Vary are judged by (the rest would only fill the index). */
const ALWAYS_KEPT = ['host', 'cache-control', 'pragma'];

/** The request an entry is stored under: its URL and method, and of its head only the fields the response varies on (and ALWAYS_KEPT). */
function storedRequest(request: CacheRequest, response: HeaderObject): CachePolicy.Request {
  const vary = (response.vary ?? '')
    .toLowerCase()
    .split(',')
    .map((n) => n.trim());
  const all = toObject(request.headers);
  const headers: HeaderObject = {};
  for (const n of [...ALWAYS_KEPT, ...vary]) if (all[n] !== undefined) headers[n] = all[n];
  return { url: request.url, method: request.method, headers };
}

/** What the cache knows of an entry without reading it from the Cache API. */
interface Indexed {
  policy: CachePolicy;
  status: number;
  bytes: number;
}

/** The index as kept in IndexedDB: [url, policy object, status, bytes] per entry, oldest first. */
type StoredIndex = Array<[string, CachePolicy.CachePolicyObject, number, number]>;

function parseIndex(v: unknown): Map<string, Indexed> {
  const out = new Map<string, Indexed>();
  if (!Array.isArray(v)) return out;
  for (const e of v.slice(0, HTTP_CACHE_MAX_ENTRIES) as unknown[]) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[2] !== 'number' || typeof e[3] !== 'number') continue;
    try {
      out.set(e[0], { policy: CachePolicy.fromObject(e[1] as CachePolicy.CachePolicyObject), status: e[2], bytes: e[3] });
    } catch {
      // An entry this version cannot read is a miss.
    }
  }
  return out;
}

/**
 * `storage`: the Cache API (bodies); `kv`: where the index of entries
 * (policies, sizes) is kept across Service Worker restarts. A request
 * consults the index in memory, so a miss or a stale entry costs no Cache
 * API call before the request leaves; a body is read only to answer with it.
 */
export function createHttpCache(storage: CacheStorage | undefined, kv: KvStore): HttpCache {
  let opened: Promise<Cache> | undefined;
  const open = () => (opened ??= storage!.open(CACHE_NAME));
  let loaded: Promise<Map<string, Indexed>> | undefined;
  /** The index once read (holdsNow). */
  let read: Map<string, Indexed> | undefined;
  const index = () =>
    (loaded ??= kv
      .get<unknown>(INDEX_KEY)
      .then(parseIndex, () => new Map<string, Indexed>())
      .then((entries) => (read = entries)));
  let saveTimer: ReturnType<typeof setTimeout> | undefined;

  /** Writes the index a moment after the last change (a module wave changes it hundreds of times). */
  function save(entries: Map<string, Indexed>): void {
    if (saveTimer !== undefined) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      const out: StoredIndex = [...entries].map(([url, e]) => [url, e.policy.toObject(), e.status, e.bytes]);
      // Lost on a failed write: the entries it misses are misses after a restart.
      void kv.put(INDEX_KEY, out).catch(() => undefined);
    }, INDEX_SAVE_DELAY_MS);
  }

  /** The stored response for an indexed entry, or undefined (and the entry forgotten) when the Cache API lost it. */
  async function body(url: string, entries: Map<string, Indexed>): Promise<Response | undefined> {
    const response = await (await open()).match(url);
    if (response) return response;
    entries.delete(url);
    save(entries);
    return undefined;
  }

  async function put(url: string, entry: Indexed, blob: Blob): Promise<void> {
    const [cache, entries] = await Promise.all([open(), index()]);
    await cache.put(url, new Response(blob, { status: entry.status }));
    // Re-inserted: the newest at the end of the eviction order.
    entries.delete(url);
    entries.set(url, entry);
    let total = 0;
    for (const e of entries.values()) total += e.bytes;
    for (const [key, e] of entries) {
      if (total <= HTTP_CACHE_MAX_BYTES && entries.size <= HTTP_CACHE_MAX_ENTRIES) break;
      if (key === url) continue;
      entries.delete(key);
      total -= e.bytes;
      void cache.delete(key).catch(() => undefined);
    }
    save(entries);
  }

  const answer = (entry: Indexed, response: Response): CachedResponse => ({
    status: entry.status,
    headers: toList(entry.policy.responseHeaders()),
    body: response.body ?? new Blob([]).stream(),
  });

  /** The policy and length to keep a response with, or undefined when it is not kept. */
  function keeping(request: CacheRequest, status: number, headers: WireHeaders): { policy: CachePolicy; length: number } | undefined {
    if (!storage || bypasses(request)) return undefined;
    const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? NaN);
    if (!(length >= 0 && length <= HTTP_CACHE_MAX_ENTRY_BYTES)) return undefined;
    if (length < HTTP_CACHE_REVALIDATE_MIN_BYTES && neverFresh(headers)) return undefined;
    const response = toObject(headers);
    const policy = new CachePolicy(storedRequest(request, response), { status, headers: response }, { shared: false });
    return worthKeeping(policy, length) ? { policy, length } : undefined;
  }

  return {
    async fresh(url, request) {
      if (!storage) return undefined;
      const entries = await index();
      const entry = entries.get(url);
      if (!entry) return undefined;
      const vary = String(entry.policy.responseHeaders().vary ?? '').toLowerCase();
      const r = await request(vary === '*' || vary.split(',').some((n) => n.trim() === 'cookie'));
      if (bypasses(r) || r.mode === 'no-cache' || !entry.policy.satisfiesWithoutRevalidation(policyRequest(r))) return undefined;
      const response = await body(url, entries);
      return response && answer(entry, response);
    },

    async lookup(request) {
      if (!storage || bypasses(request)) return { kind: 'bypass' };
      const entries = await index();
      const entry = entries.get(request.url);
      if (!entry) return { kind: 'miss' };
      const req = policyRequest(request);
      const fresh = request.mode !== 'no-cache' && entry.policy.satisfiesWithoutRevalidation(req);
      const all = fresh ? {} : (entry.policy.revalidationHeaders(req) as Record<string, string | undefined>);
      const conditional: WireHeaders = [];
      for (const n of ['if-none-match', 'if-modified-since']) if (all[n]) conditional.push([n, all[n]!]);
      // Nothing to validate with: fetch it whole.
      if (!fresh && conditional.length === 0) return { kind: 'miss' };
      // The body is at hand before the conditional request leaves: a 304 must find it.
      const response = await body(request.url, entries);
      if (!response) return { kind: 'miss' };
      if (fresh) return { kind: 'fresh', response: answer(entry, response) };
      return { kind: 'stale', conditional, entry: { policy: entry.policy, response } };
    },

    async revalidated(request, entry, status, headers) {
      if (status !== 304) return undefined;
      const { head, keep } = notModified(entry.policy, policyRequest(request), headers);
      // The entry keeps its body; only its policy changes (in the index), or it goes.
      const entries = await index();
      const indexed = entries.get(request.url);
      if (indexed && keep) indexed.policy = keep;
      else if (indexed) {
        entries.delete(request.url);
        void open()
          .then((cache) => cache.delete(request.url))
          .catch(() => undefined);
      }
      save(entries);
      return { status: entry.response.status, headers: head, body: entry.response.body ?? new Blob([]).stream() };
    },

    keeps(request, status, headers) {
      return keeping(request, status, headers) !== undefined;
    },
    store(request, status, headers, body) {
      const keep = keeping(request, status, headers);
      if (!keep) return body;
      const { policy, length } = keep;
      const [page, copy] = body.tee();
      void new Response(copy)
        .blob()
        .then((blob) => (blob.size === length ? put(request.url, { policy, status, bytes: length }, blob) : undefined))
        .catch(() => undefined);
      return page;
    },

    holdsNow(url) {
      if (!storage) return false;
      // The first call starts reading the index; until it is read, nobody knows.
      if (!read) void index();
      return read?.has(url);
    },
    async clear() {
      if (!storage) return;
      opened = undefined;
      read = new Map();
      loaded = Promise.resolve(read);
      if (saveTimer !== undefined) clearTimeout(saveTimer);
      saveTimer = undefined;
      await kv.put(INDEX_KEY, []).catch(() => undefined);
      for (const name of await storage.keys()) if (name.startsWith(WINGMAN_CACHE_PREFIX)) await storage.delete(name);
    },
  };
}
