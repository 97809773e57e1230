/**
 * The Service Worker's cookie jar goes on when a write fails (IndexedDB or
 * the Cookie Store refuses it), but says so on the console with a stable
 * code, so a lost login or a stale document.cookie can be traced.
 */
import { createSwCookies } from '../../src/sw/cookies';
import type { CookieStoreLike } from '../../src/sw/cookie-store';
import type { KvStore } from '../../src/sw/idb';

const HOST = 'abc.localhost';
const url = new URL(`http://${HOST}/`);
const context = { crossSite: false, safeTopLevelNavigation: false };

const failingKv: KvStore = {
  get: () => Promise.reject(new Error('IndexedDB unavailable')),
  put: () => Promise.reject(new Error('QuotaExceededError')),
};

const refusingStore: CookieStoreLike = {
  getAll: () => Promise.resolve([]),
  set: () => Promise.reject(new TypeError('sameSite not supported')),
  delete: () => Promise.reject(new TypeError('refused')),
};

let warnings: string[];
let warn: jest.SpyInstance;
beforeEach(() => {
  warnings = [];
  warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
});
afterEach(() => warn.mockRestore());

async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

describe('the Service Worker cookie jar', () => {
  it('logs WARN_SW_COOKIE_LOST when the stored jar cannot be read, the jar cannot be saved, or the Cookie Store refuses a mirror', async () => {
    const cookies = createSwCookies(failingKv, HOST, refusingStore);
    await cookies.store(['sid=1; Path=/'], url);
    await settled();
    expect(warnings.filter((w) => w.includes('WARN_SW_COOKIE_LOST'))).toEqual([
      expect.stringContaining('stored cookie jar could not be read'),
      expect.stringContaining('cookie sid (path /) could not be mirrored'),
      expect.stringContaining('cookie jar could not be saved'),
    ]);
  });

  it('still carries the cookie on requests after those failures', async () => {
    const cookies = createSwCookies(failingKv, HOST, refusingStore);
    await cookies.store(['sid=1; Path=/'], url);
    await expect(cookies.relayHeaderFor(url, context)).resolves.toBe('sid=1');
  });
});

describe('read-backs of the browser jar', () => {
  /** A Cookie Store answering getAll({url}) for the whole origin's script cookies, counting calls in flight. */
  function countingStore(items: Array<{ name: string; value: string; path: string }>) {
    const stats = { calls: 0, inFlight: 0, maxInFlight: 0 };
    const store: CookieStoreLike = {
      getAll: async (options) => {
        stats.calls++;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        // The jar as it is when asked; the answer comes a moment later.
        const path = options?.url ? new URL(options.url).pathname : '/';
        const answer = items.filter((c) => path.startsWith(c.path)).map((c) => ({ ...c, domain: null }));
        await new Promise((r) => setTimeout(r, 1));
        stats.inFlight--;
        return answer;
      },
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    return { store, stats };
  }
  const memoryKv = (): KvStore => ({ get: () => Promise.resolve(undefined), put: () => Promise.resolve() });
  const at = (path: string) => new URL(path, `https://${HOST}`);

  it('asks the browser for concurrent requests all at once, each path once, and every request sees what the page set before it', async () => {
    const { store, stats } = countingStore([
      { name: 'theme', value: 'dark', path: '/' },
      { name: 'deep', value: '1', path: '/src/deep' },
    ]);
    const cookies = createSwCookies(memoryKv(), HOST, store);
    const paths = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? `/src/m${i % 10}.js` : `/src/deep/m${i}.js`));
    const headers = await Promise.all(paths.map((p) => cookies.headerFor(at(p), context)));
    expect(headers).toEqual(paths.map((p) => (p.startsWith('/src/deep/') ? expect.stringMatching(/^(theme=dark; deep=1|deep=1; theme=dark)$/) : 'theme=dark')));
    // The first request's read, then one round for the rest, their paths deduplicated (5 + 20 distinct).
    expect(stats.calls).toBe(1 + 25);
    expect(stats.maxInFlight).toBeGreaterThan(1);
  });

  it('a request arriving while a read-back is in flight waits for the next one, which sees a cookie set in between', async () => {
    const items = [{ name: 'a', value: '1', path: '/' }];
    const { store, stats } = countingStore(items);
    const cookies = createSwCookies(memoryKv(), HOST, store);
    const first = cookies.headerFor(at('/one.js'), context);
    for (let i = 0; i < 100 && stats.calls === 0; i++) await new Promise((r) => setImmediate(r));
    items.push({ name: 'b', value: '2', path: '/' });
    const second = cookies.headerFor(at('/two.js'), context);
    await expect(first).resolves.toBe('a=1');
    await expect(second).resolves.toBe('a=1; b=2');
  });

  it('where the browser lists no cookie paths (Firefox), each request of a shared read-back gets the header of its own path', async () => {
    // A script cookie of /nested: Firefox lists it, without its path, for URLs under /nested only.
    const store: CookieStoreLike = {
      getAll: (options) => Promise.resolve(options?.url && new URL(options.url).pathname.startsWith('/nested/') ? [{ name: 'n', value: '1' }] : []),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const cookies = createSwCookies(memoryKv(), HOST, store);
    await cookies.headerFor(at('/warm-up'), context);
    const paths = ['/nested/a.js', '/other.js', '/nested/b.js', '/another.js'];
    await expect(Promise.all(paths.map((p) => cookies.headerFor(at(p), context)))).resolves.toEqual(['n=1', '', 'n=1', '']);
  });
});
