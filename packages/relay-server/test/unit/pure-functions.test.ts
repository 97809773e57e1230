/** Pure helpers of the agent: framing checks, header folding, backoff, resume keys, masking choice. */
import { backoffDelay } from '@wingman/protocol';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS } from '../../src/agent/constants';
import { resumeKey } from '../../src/agent/resume-store';
import { toOutgoingHeaders } from '../../src/forward/handshake-head';
import { checkFraming, forwardedRequest, fromAppResponse } from '../../src/forward/headers';
import { maskingOptions } from '../../src/ws-masking';

describe('checkFraming', () => {
  it('accepts one non-negative integer Content-Length, or none', () => {
    expect(checkFraming([['content-length', '0']])).toEqual({ ok: true, contentLength: 0 });
    expect(checkFraming([['content-length', ' 42 ']])).toEqual({ ok: true, contentLength: 42 });
    expect(checkFraming([['transfer-encoding', 'chunked']])).toEqual({ ok: true, contentLength: undefined });
  });

  it.each([
    [
      [
        ['content-length', '1'],
        ['transfer-encoding', 'chunked'],
      ],
      /both/,
    ],
    [
      [
        ['content-length', '1'],
        ['content-length', '1'],
      ],
      /more than one Content-Length/,
    ],
    [[['content-length', '1,1']], /invalid/],
    [[['content-length', '+1']], /invalid/],
    [[['content-length', '1e3']], /invalid/],
    [[['content-length', '9999999999999999']], /invalid/],
    [
      [
        ['host', 'a'],
        ['host', 'b'],
      ],
      /more than one Host/,
    ],
  ])('refuses %j', (headers, reason) => {
    const r = checkFraming(headers as Array<[string, string]>);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('headers', () => {
  it('drops hop-by-hop fields and those named by Connection, lower-casing the names', () => {
    const raw = ['Connection', 'close, X-A', 'X-A', '1', 'Upgrade', 'h2c', 'X-B', '2', 'Trailer', 'x', 'Proxy-Connection', 'keep-alive'];
    expect(fromAppResponse(raw, undefined, { sessionOrigin: undefined, viewerOrigin: undefined })).toEqual([['x-b', '2']]);
    expect(
      fromAppResponse(
        raw.map((h) => Buffer.from(h, 'latin1')),
        undefined,
        { sessionOrigin: undefined, viewerOrigin: undefined },
      ),
    ).toEqual([['x-b', '2']]);
  });

  it('keeps a repeated name as an array of its values, in order, for Node to write one line each', () => {
    expect(
      toOutgoingHeaders([
        ['accept', 'a'],
        ['x-added', 'zero'],
        ['accept', 'b'],
        ['x-added', 'one'],
        ['user-agent', 'first'],
      ]),
    ).toEqual({ accept: ['a', 'b'], 'x-added': ['zero', 'one'], 'user-agent': 'first' });
  });

  it('brackets an IPv6 target in a rewritten Host', () => {
    const h = forwardedRequest([['host', 'abc.localhost:8080']], { target: { host: '::1', port: 3000 }, hostHeader: 'rewrite', transport: 'relay' }).headers;
    expect(h[0]).toEqual(['host', '[::1]:3000']);
  });
});

describe("the agent's reconnect delays", () => {
  it('double from the initial delay up to the cap, with equal jitter', () => {
    const policy = { initialMs: BACKOFF_INITIAL_MS, maxMs: BACKOFF_MAX_MS, jitter: true };
    const lo = [1, 2, 3, 7, 8, 20].map((a) => backoffDelay(a, policy, () => 0));
    const hi = [1, 2, 3, 7, 8, 20].map((a) => backoffDelay(a, policy, () => 1));
    expect(lo).toEqual([250, 500, 1000, 15000, 15000, 15000]);
    expect(hi).toEqual([500, 1000, 2000, 30000, 30000, 30000]);
  });
});

describe('resumeKey', () => {
  it('treats loopback names as one server and ignores a trailing slash', () => {
    expect(resumeKey('http://127.0.0.1:8080/', { host: 'localhost', port: 3000 })).toBe(resumeKey('http://localhost:8080', { host: '127.0.0.1', port: 3000 }));
    expect(resumeKey('https://tunnel.example', { host: 'localhost', port: 3000 })).toBe('https://tunnel.example:443 localhost:3000');
  });
});

describe('maskingOptions', () => {
  it('skips masking only over TLS or loopback', () => {
    expect(maskingOptions('wss://tunnel.example/x').generateMask).toBeDefined();
    expect(maskingOptions('ws://localhost:8080/x').generateMask).toBeDefined();
    expect(maskingOptions('ws://127.0.0.1:8080/x').generateMask).toBeDefined();
    expect(maskingOptions('ws://[::1]:8080/x').generateMask).toBeDefined();
    expect(maskingOptions('ws://tunnel.example/x').generateMask).toBeUndefined();
    expect(maskingOptions('ws://192.168.1.10:3000/x').generateMask).toBeUndefined();
  });
});
