/** URL.parse and AbortSignal.any for the browsers that lack them (src/shared/baseline.ts), held to the built-ins' answers. */
import { anySignal, parseUrl } from '../../src/shared/baseline';

describe('parseUrl', () => {
  it.each([
    ['https://a.example/x?y#z', undefined],
    ['/p?q=1', 'https://a.example/base/'],
    ['../up', new URL('https://a.example/a/b/c')],
    ['not a url', undefined],
    ['http://[bad', undefined],
  ])('answers %s (base %s) as URL.parse does', (url, base) => {
    expect(parseUrl(url, base)?.href ?? null).toBe(URL.parse(url, base)?.href ?? null);
  });
});

describe('anySignal', () => {
  it('aborts with the first reason, once', () => {
    const a = new AbortController();
    const b = new AbortController();
    const either = anySignal([a.signal, b.signal]);
    const seen: unknown[] = [];
    either.addEventListener('abort', () => seen.push(either.reason));
    expect(either.aborted).toBe(false);
    b.abort('b first');
    a.abort('a later');
    expect(seen).toEqual(['b first']);
  });

  it('is aborted at once by a signal that already is, with its reason', () => {
    const done = AbortSignal.abort('already');
    const either = anySignal([new AbortController().signal, done]);
    expect({ aborted: either.aborted, reason: either.reason as unknown }).toEqual({ aborted: true, reason: 'already' });
  });
});
