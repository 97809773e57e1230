/**
 * The Service Worker's cookie jar goes on when a write fails (IndexedDB or
 * the Cookie Store refuses it), but says so on the console with a stable
 * code, so a lost login or a stale document.cookie can be traced.
 */
import { createSwCookies, type CookieStoreLike } from '../../src/sw/cookies';
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
