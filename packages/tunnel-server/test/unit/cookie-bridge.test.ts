import type { HeaderList } from '@wingman/protocol';
import { applySwCookieBridge, applyWsTicketCookies, bridgeSetCookie, bridgeSwResponse, isSwRelayRequest } from '../../src/browser/cookie-bridge';

const SW: HeaderList = [['x-wingman-via', 'sw']];

describe('the tunnel server half of the SW cookie bridge', () => {
  it('recognises a request relayed by the Service Worker', () => {
    expect(isSwRelayRequest([...SW, ['accept', '*/*']])).toBe(true);
    expect(isSwRelayRequest([['x-wingman-via', 'other']])).toBe(false);
    expect(isSwRelayRequest([['accept', '*/*']])).toBe(false);
  });

  it("replaces the browser's Cookie with the SW jar and drops the bridge headers", () => {
    const out = applySwCookieBridge([['accept', '*/*'], ['cookie', 'stale=1'], ...SW, ['x-wingman-cookie', 'sid=abc; theme=dark']]);
    expect(out).toEqual([
      ['accept', '*/*'],
      ['cookie', 'sid=abc; theme=dark'],
    ]);
  });

  it("merges the SW's HttpOnly part with the browser's Cookie; a browser cookie cannot shadow an HttpOnly one", () => {
    const out = applySwCookieBridge([['cookie', 'theme=dark; sid=forged-by-script'], ...SW, ['x-wingman-cookie-merge', '1'], ['x-wingman-cookie', 'sid=abc']]);
    expect(out).toEqual([['cookie', 'sid=abc; theme=dark']]);
    // No HttpOnly part: the browser's cookies as they are; none at all: no Cookie.
    expect(applySwCookieBridge([['cookie', 'theme=dark'], ...SW, ['x-wingman-cookie-merge', '1']])).toEqual([['cookie', 'theme=dark']]);
    expect(applySwCookieBridge([...SW, ['x-wingman-cookie-merge', '1']])).toEqual([]);
  });

  it('sends no Cookie at all when the SW jar is empty', () => {
    expect(applySwCookieBridge([['cookie', 'stale=1'], ...SW])).toEqual([]);
  });

  it('leaves other requests alone, except for a forged x-wingman-cookie', () => {
    const plain: HeaderList = [['cookie', 'a=1']];
    expect(applySwCookieBridge(plain)).toBe(plain);
    expect(
      applySwCookieBridge([
        ['cookie', 'a=1'],
        ['x-wingman-cookie', 'sid=forged'],
      ]),
    ).toEqual([['cookie', 'a=1']]);
    expect(
      applySwCookieBridge([
        ['cookie', 'a=1'],
        ['x-wingman-cookie-merge', '1'],
        ['x-wingman-cookie', 'sid=forged'],
      ]),
    ).toEqual([['cookie', 'a=1']]);
  });

  it('moves every Set-Cookie, in order, into one JSON header, and drops forged bridge headers from the app', () => {
    const out = bridgeSetCookie([
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT'],
      ['x-wingman-set-cookie', '["forged=1"]'],
      ['x-wingman-status', '302'],
      ['set-cookie', 'b=2; HttpOnly'],
    ]);
    expect(out).toEqual([
      ['content-type', 'text/plain'],
      ['x-wingman-set-cookie', JSON.stringify(['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2; HttpOnly'])],
    ]);
  });

  it('answers a redirect as 200 carrying the original status, so the SW sees its Set-Cookie', () => {
    expect(
      bridgeSwResponse({
        status: 303,
        headers: [
          ['location', '/account'],
          ['set-cookie', 'sid=1'],
        ],
      }),
    ).toEqual({
      status: 200,
      headers: [
        ['location', '/account'],
        ['x-wingman-set-cookie', '["sid=1"]'],
        ['x-wingman-status', '303'],
      ],
    });
  });

  it('keeps non-redirect 3xx statuses and a 3xx without Location as they are', () => {
    expect(bridgeSwResponse({ status: 304, headers: [['etag', '"x"']] })).toEqual({ status: 304, headers: [['etag', '"x"']] });
    expect(bridgeSwResponse({ status: 302, headers: [] })).toEqual({ status: 302, headers: [] });
  });
});

describe('the cookies of a redeemed WebSocket ticket', () => {
  it("are merged into the upgrade's Cookie; a browser cookie cannot shadow one of them", () => {
    const out = applyWsTicketCookies(
      [
        ['host', 'h'],
        ['cookie', 'theme=dark; sid=forged-by-script'],
      ],
      'sid=abc; other=1',
    );
    expect(out).toEqual([
      ['host', 'h'],
      ['cookie', 'sid=abc; other=1; theme=dark'],
    ]);
  });

  it('become the Cookie header when the browser sent none', () => {
    expect(applyWsTicketCookies([['host', 'h']], 'sid=abc')).toEqual([
      ['host', 'h'],
      ['cookie', 'sid=abc'],
    ]);
  });

  it('cannot be smuggled in with bridge headers: without a ticket those are dropped and Cookie is left alone', () => {
    const headers: HeaderList = [
      ['cookie', 'theme=dark'],
      ['x-wingman-cookie', 'sid=injected'],
      ['x-wingman-cookie-merge', '1'],
    ];
    expect(applyWsTicketCookies(headers, undefined)).toEqual([['cookie', 'theme=dark']]);
    const plain: HeaderList = [['cookie', 'theme=dark']];
    expect(applyWsTicketCookies(plain, undefined)).toBe(plain);
  });
});
