import { connectionListed, headerListFromRaw, HOP_BY_HOP_HEADERS, isSendableCloseCode, parseFetchMetadata, WS_MAX_CLOSE_REASON_BYTES } from '../../src';

describe('the wire contract', () => {
  it('lets only the close codes RFC 6455 allows on a close frame go out', () => {
    const sendable = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];
    const notSendable = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000];
    expect(sendable.filter((c) => !isSendableCloseCode(c))).toEqual([]);
    expect(notSendable.filter(isSendableCloseCode)).toEqual([]);
  });

  it('caps a close reason at a control frame payload minus the two-byte code', () => {
    expect(WS_MAX_CLOSE_REASON_BYTES).toBe(125 - 2);
  });

  it('treats the connection-scoped fields of RFC 9110 as hop-by-hop, and end-to-end fields as not', () => {
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection'])
      expect(HOP_BY_HOP_HEADERS.has(name)).toBe(true);
    for (const name of ['host', 'cookie', 'content-length', 'set-cookie']) expect(HOP_BY_HOP_HEADERS.has(name)).toBe(false);
  });

  it('takes the fields every Connection field lists as hop-by-hop too, never Host', () => {
    const listed = connectionListed([
      ['connection', 'Keep-Alive, X-Private ,'],
      ['x-private', '1'],
      ['connection', 'host, x-other'],
    ]);
    expect([...listed].sort()).toEqual(['keep-alive', 'x-other', 'x-private']);
    expect(connectionListed([['x-connection', 'close']]).size).toBe(0);
  });

  it("reads Node's rawHeaders as a header list with lower-case names, values and order kept", () => {
    expect(headerListFromRaw(['Host', 'a.test', 'Set-Cookie', 'a=1', 'set-cookie', 'B=2'])).toEqual([
      ['host', 'a.test'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'B=2'],
    ]);
  });

  it('takes from a Service Worker the forbidden fields it carries: sec-* and one serialized origin, nothing else', () => {
    const parse = (fields: unknown) => parseFetchMetadata(JSON.stringify(fields));
    const ok: Array<[string, string]> = [
      ['sec-fetch-site', 'same-origin'],
      ['origin', 'http://s-1.localhost:8080'],
    ];
    expect(parse(ok)).toEqual(ok);
    expect(parse([['origin', 'https://[::1]:443']])).toEqual([['origin', 'https://[::1]:443']]);
    for (const bad of ['http://a.localhost/path', 'null', 'ftp://a', 'http://a b', 'http://A.localhost']) expect(parse([['origin', bad]])).toBeUndefined();
    expect(parse([['cookie', 'a=1']])).toBeUndefined();
    expect(parse([['referer', 'http://a.localhost/']])).toBeUndefined();
  });
});
