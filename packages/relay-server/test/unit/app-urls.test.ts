import type { HeaderList } from '@wingman/protocol';
import { appAddress, rewriteAppUrl, sessionOrigin } from '../../src/forward/app-urls';

const ORIGIN = 'https://abc.tunnel.example.com';
const local = appAddress({ host: 'localhost', port: 3500 }, 'rewrite');

/** Location after the rewrite; `null` stands for "not known" (undefined would select the default). */
function loc(value: string, origin: string | null = ORIGIN, app: ReturnType<typeof appAddress> | null = local): string {
  return app ? (rewriteAppUrl('location', value, app, origin ?? undefined) ?? value) : value;
}

describe('response URLs that name the local app', () => {
  it('moves Location on the target to the session origin, for every loopback spelling and both schemes', () => {
    expect(loc('http://localhost:3500/login')).toBe(`${ORIGIN}/login`);
    expect(loc('http://127.0.0.1:3500/a?b=1#c')).toBe(`${ORIGIN}/a?b=1#c`);
    expect(loc('http://[::1]:3500/')).toBe(`${ORIGIN}/`);
    expect(loc('https://LOCALHOST:3500')).toBe(`${ORIGIN}/`);
    expect(loc('//localhost:3500/x')).toBe(`${ORIGIN}/x`);
    expect(loc('http://localhost:3500?q')).toBe(`${ORIGIN}/?q`);
    // The path is kept as the app wrote it (no normalisation).
    expect(loc('http://localhost:3500/a/../%7e b')).toBe(`${ORIGIN}/a/../%7e b`);
  });

  it('leaves other URLs alone: other ports, other hosts, relative references, credentials', () => {
    for (const v of [
      'http://localhost:3501/x',
      'http://example.com/x',
      'https://localhost/x',
      '/login',
      'login',
      'http://user@localhost:3500/x',
      'mailto:a@b',
    ]) {
      expect(loc(v)).toBe(v);
    }
  });

  it('falls back to a path-absolute reference when the request did not name the session origin', () => {
    expect(loc('http://localhost:3500/login', null)).toBe('/login');
    expect(loc('http://localhost:3500', null)).toBe('/');
  });

  it('rewrites Content-Location and the URL of Refresh, quoted or not', () => {
    const headers: HeaderList = [
      ['content-location', 'http://127.0.0.1:3500/doc.json'],
      ['refresh', '0; url=http://localhost:3500/next'],
      ['x-other', 'http://localhost:3500/kept'],
    ];
    expect(headers.map(([n, v]) => [n, rewriteAppUrl(n, v, local!, ORIGIN) ?? v])).toEqual([
      ['content-location', `${ORIGIN}/doc.json`],
      ['refresh', `0; url=${ORIGIN}/next`],
      ['x-other', 'http://localhost:3500/kept'],
    ]);
    const refresh = (v: string) => rewriteAppUrl('refresh', v, local!, ORIGIN) ?? v;
    expect(refresh("5;URL='http://localhost:3500/q' ")).toBe(`5;URL='${ORIGIN}/q' `);
    expect(refresh('3, http://[::1]:3500/z')).toBe(`3, ${ORIGIN}/z`);
    expect(refresh('5')).toBe('5');
    expect(refresh('0; url=/relative')).toBe('0; url=/relative');
  });

  it('matches an explicit Host value exactly, and nothing with preserve', () => {
    const explicit = appAddress({ host: 'localhost', port: 3500 }, 'app.test');
    expect(loc('http://app.test/x', ORIGIN, explicit)).toBe(`${ORIGIN}/x`);
    expect(loc('http://localhost:3500/x', ORIGIN, explicit)).toBe('http://localhost:3500/x');
    expect(appAddress({ host: 'localhost', port: 3500 }, 'preserve')).toBeUndefined();
    expect(loc('http://localhost:3500/x', ORIGIN, null)).toBe('http://localhost:3500/x');
  });

  it('reads the session origin from X-Forwarded-Proto and -Host, refusing malformed values', () => {
    expect(
      sessionOrigin([
        ['x-forwarded-proto', 'https'],
        ['x-forwarded-host', 'Abc.Tunnel.example.com'],
      ]),
    ).toBe('https://abc.tunnel.example.com');
    expect(
      sessionOrigin([
        ['x-forwarded-proto', 'http, https'],
        ['x-forwarded-host', 'abc.localhost:8080'],
      ]),
    ).toBe('http://abc.localhost:8080');
    expect(sessionOrigin([['x-forwarded-host', 'abc.localhost:8080']])).toBeUndefined();
    expect(
      sessionOrigin([
        ['x-forwarded-proto', 'javascript'],
        ['x-forwarded-host', 'a'],
      ]),
    ).toBeUndefined();
    expect(
      sessionOrigin([
        ['x-forwarded-proto', 'http'],
        ['x-forwarded-host', 'a/b@c'],
      ]),
    ).toBeUndefined();
  });
});
