/**
 * The Service Worker's cookie jar, the single truth for the app's requests, kept in IndexedDB; non-HttpOnly
 * cookies mirrored into the browser's jar and read back before every request, one operation at a time so
 * a read-back never races a mirror write. docs/browser-client.md §Cookies.
 */
import { CookieJar, type Cookie, type CookieChange, type RequestContext } from '../shared/cookie-jar';
import { createCookieMirror, type PageCookieWriter } from './cookie-mirror';
import { bounded, lost, type CookieStoreLike } from './cookie-store';
import type { KvStore } from './idb';

const STORAGE_KEY = 'cookies';

/** One cookie of the browser's jar, as the Cookie Store API lists it. */
type BrowserCookie = Awaited<ReturnType<CookieStoreLike['getAll']>>[number];

export type SwCookies = ReturnType<typeof createSwCookies>;

/** `writeInPage`: a shell window's document.cookie, where the Cookie Store API does not write; `secureOrigin`: https. */
export function createSwCookies(kv: KvStore, host: string, cookieStore: CookieStoreLike | undefined, writeInPage?: PageCookieWriter, secureOrigin = false) {
  const mirror = createCookieMirror(cookieStore, writeInPage, secureOrigin);
  const serial = createSerial();

  const jarReady: Promise<CookieJar> = kv
    .get<Cookie[]>(STORAGE_KEY)
    .then((stored) => new CookieJar(host, Array.isArray(stored) ? stored.filter(validStored) : []))
    .catch((err: unknown) => {
      lost('the stored cookie jar could not be read; starting with an empty one', err);
      return new CookieJar(host);
    });

  let jarNow: CookieJar | undefined;
  void jarReady.then((jar) => (jarNow = jar));

  const persist = (jar: CookieJar) => {
    // Not awaited by requests: the in-memory jar is already right; losing the
    // last write to a SW kill costs a re-login at worst.
    void kv
      .put(STORAGE_KEY, jar.list())
      .catch((err: unknown) => lost('the cookie jar could not be saved; a Service Worker restart loses the latest cookies', err));
  };

  /**
   * Reads the browser's jar for `url`: its script-visible cookies and the
   * path they were read for. getAll({url}) is refused by Chromium 156 on
   * http://*.localhost ("URL must be within Service Worker scope", even for
   * the scope itself); then getAll() answers for the scope's path ("/") and
   * only cookies visible there are compared. Undefined: the read failed.
   */
  let urlForm = true;
  async function readBrowserJar(url: URL): Promise<{ items: BrowserCookie[]; path: string } | undefined> {
    if (!cookieStore) return undefined;
    try {
      if (urlForm) {
        try {
          return { items: await bounded(cookieStore.getAll({ url: url.href })), path: url.pathname };
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
          urlForm = false;
        }
      }
      return { items: await bounded(cookieStore.getAll()), path: '/' };
    } catch {
      return undefined;
    }
  }

  /**
   * One read-back of the browser's jar into ours for the waiters' paths: the
   * browser is asked for every path at once, then each answer is folded in and
   * its waiters' headers taken before the next (Firefox's items carry no path,
   * so each request's header must reflect its own path's answer).
   */
  const readBackFor = (byPath: Map<string, Waiter[]>): Promise<void> =>
    serial(async () => {
      const jar = await jarReady;
      const groups = [...byPath.values()];
      const read = await Promise.all(groups.map((waiters) => readBrowserJar(waiters[0]!.url)));
      const now = Date.now();
      let changed = jar.purgeExpired(now).length > 0;
      groups.forEach((waiters, i) => {
        const r = read[i];
        if (r && foldBack(jar, host, r.items, r.path, now).length > 0) changed = true;
        for (const w of waiters) w.resolve(jar.header(w.url.pathname, now, w.context));
      });
      if (changed) persist(jar);
    }).catch((err: unknown) => {
      for (const waiters of byPath.values()) for (const w of waiters) w.reject(err);
    });

  /**
   * Coalesced read-backs: a request joins the read-back queued after the one
   * in flight (which may have read the browser's jar before this request's
   * page wrote a cookie). A module wave costs two rounds of reads, not hundreds.
   */
  let inFlight: Promise<void> | undefined;
  let queued: Map<string, Waiter[]> | undefined;
  function startReadBack(byPath: Map<string, Waiter[]>): void {
    const p = readBackFor(byPath).finally(() => {
      if (inFlight === p) inFlight = undefined;
    });
    inFlight = p;
  }
  function headerAfterReadBack(url: URL, context: RequestContext): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = { url, context, resolve, reject };
      // getAll({url}) answers by path; without the URL form every read is the scope's.
      const key = urlForm ? url.pathname : '/';
      if (!inFlight) return startReadBack(new Map([[key, [waiter]]]));
      if (!queued) {
        const byPath = new Map<string, Waiter[]>();
        queued = byPath;
        void inFlight.then(() => {
          queued = undefined;
          startReadBack(byPath);
        });
      }
      const waiters = queued.get(key);
      if (waiters) waiters.push(waiter);
      else queued.set(key, [waiter]);
    });
  }

  return {
    /** The Cookie header for a request (after reading back script-set cookies). */
    headerFor: headerAfterReadBack,
    /** What a relayed request adds to the browser's own Cookie header (SW_COOKIE_MERGE_HEADER): no read-back of the browser's jar, which the browser reads itself for that request. */
    async relayHeaderFor(url: URL, context: RequestContext): Promise<string> {
      const jar = await jarReady;
      return jar.unmirroredHeader(url.pathname, Date.now(), context);
    },
    /** relayHeaderFor's answer at once, or undefined while the jar is not read yet (a SW just started). */
    relayHeaderNow(url: URL, context: RequestContext): string | undefined {
      return jarNow?.unmirroredHeader(url.pathname, Date.now(), context);
    },
    /** Applies Set-Cookie fields of a response to `url`, and mirrors them, before resolving. */
    store(fields: string[], url: URL): Promise<void> {
      if (fields.length === 0) return Promise.resolve();
      return serial(async () => {
        const jar = await jarReady;
        const now = Date.now();
        const changes: CookieChange[] = [];
        for (const f of fields) {
          const ch = jar.applySetCookie(f, url.pathname, now);
          if (ch) changes.push(ch);
        }
        if (changes.length === 0) return;
        await mirror(jar, changes);
        persist(jar);
      });
    },
  };
}

/** Runs each function after the previous one settled: the jar's operations, one at a time. */
function createSerial(): <T>(fn: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
}

/** A request waiting for a read-back: its Cookie header is taken right after its path's answer is folded in. */
interface Waiter {
  url: URL;
  context: RequestContext;
  resolve(header: string): void;
  reject(err: unknown): void;
}

/** Folds what the app's JS changed, as `items` (the browser's jar at `path`) show it, into ours. */
function foldBack(jar: CookieJar, host: string, items: BrowserCookie[], path: string, now: number): CookieChange[] {
  const changes: CookieChange[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item?.name !== 'string' || typeof item.value !== 'string') continue;
    // A parent domain's cookie (another session's `Domain=localhost`) is not this session's: the jar is host-only.
    // Chromium reports `domain` (null for host-only cookies); Firefox does not.
    if (typeof item.domain === 'string' && item.domain.replace(/^\./, '').toLowerCase() !== host) continue;
    seen.add(item.name);
    const candidates = jar.matching(path, now).filter((c) => c.name === item.name);
    if (candidates.some((c) => c.value === item.value)) continue;
    // Firefox's items carry only name and value: keep the path of the cookie they replace.
    const itemPath = typeof item.path === 'string' ? item.path : (candidates[0]?.path ?? '/');
    const ch = jar.putFromScript(
      { name: item.name, value: item.value, path: itemPath, ...(typeof item.expires === 'number' ? { expires: item.expires } : {}) },
      now,
    );
    if (ch) {
      jar.markMirrored(item.name, itemPath, item.value);
      changes.push(ch);
    }
  }
  // A mirrored cookie that is gone from the browser's jar was deleted by the app's JS.
  for (const c of jar.matching(path, now)) {
    if (!c.httpOnly && c.mirrored && !seen.has(c.name)) {
      const ch = jar.delete(c.name, c.path);
      if (ch) changes.push(ch);
    }
  }
  return changes;
}

/** Guards what comes back from IndexedDB (written by an older version, or tampered with). */
function validStored(c: unknown): c is Cookie {
  const o = c as Record<string, unknown>;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    typeof o.value === 'string' &&
    typeof o.path === 'string' &&
    typeof o.httpOnly === 'boolean' &&
    typeof o.secure === 'boolean' &&
    (o.sameSite === 'strict' || o.sameSite === 'lax' || o.sameSite === 'none') &&
    typeof o.created === 'number' &&
    (o.expires === undefined || typeof o.expires === 'number')
  );
}
