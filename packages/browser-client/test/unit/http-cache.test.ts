/**
 * The HTTP cache's decisions that need no Cache API (src/sw/http-cache.ts):
 * which requests bypass it, and what a 304 to its own conditional request
 * does to an entry. The entries themselves live in the browser's Cache API;
 * the e2e suite (test/e2e/http-cache.test.ts) covers them in Chromium.
 */
import CachePolicy from 'http-cache-semantics';
import { bypasses, HTTP_CACHE_REVALIDATE_MIN_BYTES, neverFresh, notModified, worthKeeping, type CacheRequest } from '../../src/sw/http-cache';
import type { WireHeaders } from '../../src/shared/messages';

const URL_ = 'https://s.example/src/msg.js';
const request: CacheRequest = { url: URL_, method: 'GET', headers: [['host', 's.example']], mode: 'default' };
const policyRequest = { url: URL_, method: 'GET', headers: { host: 's.example' } };

/** A stored policy for a response with these headers (as store() makes it). */
function stored(headers: Record<string, string>): CachePolicy {
  return new CachePolicy(policyRequest, { status: 200, headers }, { shared: false });
}

const get = (head: WireHeaders, name: string) => head.find(([n]) => n === name)?.[1];

describe('bypasses', () => {
  it('lets a plain GET use the cache', () => {
    expect(bypasses(request)).toBe(false);
  });

  it.each<[string, CacheRequest]>([
    ['a POST', { ...request, method: 'POST' }],
    ['cache mode no-store', { ...request, mode: 'no-store' }],
    ['cache mode reload', { ...request, mode: 'reload' }],
    ["the app's own If-None-Match", { ...request, headers: [...request.headers, ['if-none-match', '"x"']] }],
    ['a Range request', { ...request, headers: [...request.headers, ['range', 'bytes=0-9']] }],
  ])('sends %s past it', (_what, r) => {
    expect(bypasses(r)).toBe(true);
  });
});

describe('worthKeeping: what is worth a copy', () => {
  const big = HTTP_CACHE_REVALIDATE_MIN_BYTES;
  it.each<[string, Record<string, string>, number, boolean]>([
    ['fresh for a while, however small', { 'cache-control': 'max-age=600' }, 10, true],
    ['immutable', { 'cache-control': 'max-age=31536000, immutable' }, 10, true],
    ['no-cache with an ETag, large enough for a 304 to save bytes', { 'cache-control': 'no-cache', etag: '"a"' }, big, true],
    ['no-cache with an ETag, too small for a 304 to pay', { 'cache-control': 'no-cache', etag: '"a"' }, big - 1, false],
    ['a Last-Modified only (heuristic freshness)', { 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' }, 10, true],
    ['neither freshness nor a validator', { 'content-type': 'application/json' }, big, false],
    ['no-cache without a validator', { 'cache-control': 'no-cache' }, big, false],
    ['no-store', { 'cache-control': 'no-store', etag: '"a"' }, big, false],
    ['private, for a private cache', { 'cache-control': 'private, max-age=60' }, 10, true],
  ])('%s', (_what, headers, bytes, expected) => {
    expect(worthKeeping(stored(headers), bytes)).toBe(expected);
  });
});

describe('neverFresh: a small response judged without its policy', () => {
  const small = HTTP_CACHE_REVALIDATE_MIN_BYTES - 1;
  it.each<[string, string | undefined]>([
    ['no-cache (Vite’s modules)', 'no-cache'],
    ['no-store', 'no-store'],
    ['field-specific no-cache', 'no-cache="set-cookie", max-age=60'],
    ['no-cache with stale-while-revalidate', 'no-cache, stale-while-revalidate=60'],
    ['max-age', 'max-age=60'],
    ['immutable', 'public, max-age=31536000, immutable'],
    ['none', undefined],
  ])('agrees with the policy on %s', (_, cc) => {
    const head: WireHeaders = [['content-type', 'text/javascript'], ['etag', 'W/"1"'], ...(cc === undefined ? [] : ([['cache-control', cc]] as WireHeaders))];
    // Where neverFresh decides, the policy says the same: not worth keeping.
    if (neverFresh(head)) expect(worthKeeping(stored(Object.fromEntries(head)), small)).toBe(false);
    expect(neverFresh(head)).toBe(cc !== undefined && /no-(cache|store)/.test(cc) && !cc.includes('stale-'));
  });
});

describe('notModified: a 304 to the conditional request built from an entry', () => {
  const vite = { 'content-type': 'text/javascript', 'cache-control': 'no-cache', etag: 'W/"1c-abc"', 'content-length': '28', vary: 'Origin' };

  it('keeps the entry’s head when the 304 carries no validator (Vite answers a bare 304)', () => {
    const { head, keep } = notModified(stored(vite), policyRequest, [
      ['vary', 'Origin'],
      ['date', 'Wed, 25 Nov 2026 06:57:35 GMT'],
    ]);
    expect(get(head, 'content-type')).toBe('text/javascript');
    expect(get(head, 'etag')).toBe('W/"1c-abc"');
    expect(get(head, 'cache-control')).toBe('no-cache');
    expect(keep).toBeDefined();
    expect(keep!.responseHeaders()['content-type']).toBe('text/javascript');
  });

  it('updates the entry’s head with the 304’s fields when its validator matches', () => {
    const { head, keep } = notModified(stored({ ...vite, 'cache-control': 'max-age=0' }), policyRequest, [
      ['etag', 'W/"1c-abc"'],
      ['cache-control', 'max-age=600'],
    ]);
    expect(get(head, 'cache-control')).toBe('max-age=600');
    expect(get(head, 'content-type')).toBe('text/javascript');
    expect(keep!.satisfiesWithoutRevalidation(policyRequest)).toBe(true);
  });

  it('validates by Last-Modified when the entry has no ETag', () => {
    const lastModified = 'Tue, 24 Nov 2026 10:00:00 GMT';
    const { head, keep } = notModified(stored({ 'content-type': 'text/css', 'cache-control': 'no-cache', 'last-modified': lastModified }), policyRequest, []);
    expect(get(head, 'content-type')).toBe('text/css');
    expect(get(head, 'last-modified')).toBe(lastModified);
    expect(keep).toBeDefined();
  });

  it('updates nothing when the 304 names another validator: the entry’s own head, and the entry goes', () => {
    const { head, keep } = notModified(stored({ ...vite, etag: '"v1"' }), policyRequest, [
      ['etag', '"v2"'],
      ['cache-control', 'max-age=600'],
    ]);
    expect(get(head, 'content-type')).toBe('text/javascript');
    expect(get(head, 'cache-control')).toBe('no-cache');
    expect(keep).toBeUndefined();
  });

  it('never gives back a Set-Cookie', () => {
    const { head } = notModified(stored(vite), policyRequest, [['set-cookie', 'a=1']]);
    expect(get(head, 'set-cookie')).toBeUndefined();
  });
});
