import { HOP_BY_HOP_HEADERS, isSendableCloseCode, WS_MAX_CLOSE_REASON_BYTES } from '../../src';

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
});
