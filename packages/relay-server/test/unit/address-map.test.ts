import type { HeaderList } from '@wingman/protocol';
import { appAddress } from '../../src/forward/app-urls';
import { forwardedRequest, fromAppResponse } from '../../src/forward/headers';

const SESSION_HOST = 'abc.localhost:8080';
const SESSION = `http://${SESSION_HOST}`;
const target = { host: 'localhost', port: 3500 };

/** The head a browser on the session writes, with `extra` fields. */
const viewerHead = (extra: HeaderList): HeaderList => [['host', SESSION_HOST], ['x-forwarded-proto', 'http'], ...extra];
const field = (headers: HeaderList, name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

describe('the request as the app receives it', () => {
  it('moves Origin and Referer that name the session to the app origin, with the Host (rewrite)', () => {
    const { headers, addresses } = forwardedRequest(
      viewerHead([
        ['origin', SESSION],
        ['referer', `${SESSION}/admin/login/?next=/admin/#top`],
      ]),
      { target, hostHeader: 'rewrite', transport: 'relay' },
    );
    expect(field(headers, 'host')).toEqual(['localhost:3500']);
    expect(field(headers, 'origin')).toEqual(['http://localhost:3500']);
    expect(field(headers, 'referer')).toEqual(['http://localhost:3500/admin/login/?next=/admin/#top']);
    expect(field(headers, 'x-forwarded-host')).toEqual([SESSION_HOST]);
    expect(addresses).toEqual({ sessionOrigin: SESSION, viewerOrigin: SESSION });
  });

  it('recognises the session with its scheme’s default port spelt out or left out', () => {
    const head: HeaderList = [
      ['host', 'abc.tunnel.example.com:443'],
      ['origin', 'https://abc.tunnel.example.com'],
    ];
    expect(field(forwardedRequest(head, { target, hostHeader: 'rewrite', transport: 'relay' }).headers, 'origin')).toEqual(['http://localhost:3500']);
  });

  it('names the explicit Host value as the app origin, and an https target with https', () => {
    const explicit = forwardedRequest(viewerHead([['origin', SESSION]]), { target, hostHeader: 'app.test:8000', transport: 'relay' });
    expect(field(explicit.headers, 'origin')).toEqual(['http://app.test:8000']);
    const tls = forwardedRequest(viewerHead([['referer', `${SESSION}`]]), { target: { ...target, scheme: 'https' }, hostHeader: 'rewrite', transport: 'p2p' });
    expect(field(tls.headers, 'referer')).toEqual(['https://localhost:3500/']);
  });

  it('takes the Origin a Service Worker carried in its fetch metadata, and maps it as the browser’s own', () => {
    const { headers } = forwardedRequest(viewerHead([['x-wingman-fetch-meta', JSON.stringify([['origin', SESSION]])]]), {
      target,
      hostHeader: 'rewrite',
      transport: 'relay',
    });
    expect(field(headers, 'origin')).toEqual(['http://localhost:3500']);
  });

  it('leaves other origins alone: another session, another port, another site, null, credentials', () => {
    for (const origin of ['http://other.localhost:8080', 'http://abc.localhost:8081', 'https://example.com', 'null', 'http://u:p@abc.localhost:8080']) {
      const { headers, addresses } = forwardedRequest(viewerHead([['origin', origin]]), { target, hostHeader: 'rewrite', transport: 'relay' });
      expect(field(headers, 'origin')).toEqual([origin]);
      expect(addresses.viewerOrigin).toBeUndefined();
    }
  });

  it('translates nothing with preserve: the app sees the viewer’s addresses', () => {
    const head = viewerHead([
      ['origin', SESSION],
      ['referer', `${SESSION}/x`],
    ]);
    const { headers } = forwardedRequest(head, { target, hostHeader: 'preserve', transport: 'relay' });
    expect(field(headers, 'host')).toEqual([SESSION_HOST]);
    expect(field(headers, 'origin')).toEqual([SESSION]);
    expect(field(headers, 'referer')).toEqual([`${SESSION}/x`]);
  });
});

describe('the response as the viewer receives it', () => {
  const app = appAddress(target, 'rewrite');
  const exchange = { sessionOrigin: SESSION, viewerOrigin: SESSION };

  it('moves an Access-Control-Allow-Origin naming the app to the viewer’s Origin, and leaves others', () => {
    const map = (v: string) => field(fromAppResponse(['Access-Control-Allow-Origin', v], app, exchange), 'access-control-allow-origin')[0];
    expect(map('http://localhost:3500')).toBe(SESSION);
    expect(map('http://127.0.0.1:3500')).toBe(SESSION);
    expect(map('*')).toBe('*');
    expect(map('http://localhost:3501')).toBe('http://localhost:3501');
    expect(map('https://example.com')).toBe('https://example.com');
    expect(map('http://localhost:3500/path')).toBe('http://localhost:3500/path');
  });

  it('makes a cookie whose Domain names the app host-only, keeping every other attribute byte for byte', () => {
    const cookies = (v: string) => field(fromAppResponse(['Set-Cookie', v], app, exchange), 'set-cookie')[0];
    expect(cookies('sid=1; Domain=localhost; Path=/; HttpOnly')).toBe('sid=1; Path=/; HttpOnly');
    expect(cookies('sid=1; domain=.LOCALHOST')).toBe('sid=1');
    expect(cookies('sid=1;Domain=127.0.0.1;Secure')).toBe('sid=1;Secure');
    expect(cookies('sid=1; Domain=example.com')).toBe('sid=1; Domain=example.com');
    expect(cookies('sid=1; Path=/')).toBe('sid=1; Path=/');
  });

  it('keeps Location in step with the same mapping, and translates nothing with preserve', () => {
    expect(fromAppResponse(['Location', 'http://localhost:3500/next'], app, exchange)).toEqual([['location', `${SESSION}/next`]]);
    const untouched: HeaderList = [
      ['access-control-allow-origin', 'http://localhost:3500'],
      ['set-cookie', 'a=1; Domain=localhost'],
    ];
    expect(fromAppResponse(untouched.flat(), appAddress(target, 'preserve'), exchange)).toEqual(untouched);
  });
});
