import { gunzipSync } from 'node:zlib';
import type { HeaderList } from '@wingman/protocol';
import { acceptsChannelGzip, channelGzip, compressForChannel, P2P_COMPRESS_MIN_BYTES, withChannelCoding } from '../../src/forward/p2p-compress';

const offer: HeaderList = [['x-wingman-accept-coding', 'gzip']];
const js = (length = 64 * 1024, extra: HeaderList = []): HeaderList => [
  ['content-type', 'text/javascript; charset=utf-8'],
  ['content-length', String(length)],
  ...extra,
];
const get = { method: 'GET', headers: offer };

describe('compression on the data channel: which responses', () => {
  it('compresses a large script, stylesheet, JSON or SVG answered 200 to a request that offered gzip', () => {
    for (const type of ['text/javascript', 'application/javascript', 'text/css', 'application/json', 'image/svg+xml', 'text/html', 'application/ld+json'])
      expect([
        type,
        compressForChannel(get, 200, [
          ['content-type', type],
          ['content-length', '10000'],
        ]),
      ]).toEqual([type, true]);
  });

  it('leaves a request that did not offer gzip as it is', () => {
    expect(compressForChannel({ method: 'GET', headers: [] }, 200, js())).toBe(false);
    expect(compressForChannel({ method: 'GET', headers: [['x-wingman-accept-coding', 'br']] }, 200, js())).toBe(false);
    expect(acceptsChannelGzip([['x-wingman-accept-coding', 'br, GZIP']])).toBe(true);
  });

  it('leaves ranges, other statuses, HEAD and encoded bodies as they are', () => {
    expect(compressForChannel({ method: 'GET', headers: [...offer, ['range', 'bytes=0-9']] }, 200, js())).toBe(false);
    expect(compressForChannel(get, 206, js())).toBe(false);
    expect(compressForChannel(get, 404, js())).toBe(false);
    expect(compressForChannel({ method: 'HEAD', headers: offer }, 200, js())).toBe(false);
    expect(compressForChannel(get, 200, js(64 * 1024, [['content-encoding', 'br']]))).toBe(false);
    expect(compressForChannel(get, 200, js(64 * 1024, [['content-encoding', 'identity']]))).toBe(true);
  });

  it('leaves small bodies, bodies of unknown length, event streams and binary types as they are', () => {
    expect(compressForChannel(get, 200, js(P2P_COMPRESS_MIN_BYTES - 1))).toBe(false);
    expect(compressForChannel(get, 200, js(P2P_COMPRESS_MIN_BYTES))).toBe(true);
    expect(compressForChannel(get, 200, [['content-type', 'text/javascript']])).toBe(false);
    expect(
      compressForChannel(get, 200, [
        ['content-type', 'text/event-stream'],
        ['content-length', '100000'],
      ]),
    ).toBe(false);
    expect(
      compressForChannel(get, 200, [
        ['content-type', 'image/png'],
        ['content-length', '100000'],
      ]),
    ).toBe(false);
    expect(
      compressForChannel(get, 200, [
        ['content-type', 'application/octet-stream'],
        ['content-length', '100000'],
      ]),
    ).toBe(false);
  });

  it("marks the head with the coding and keeps the app's fields", () => {
    expect(withChannelCoding(js(5000, [['x-wingman-coding', 'br']]))).toEqual([...js(5000), ['x-wingman-coding', 'gzip']]);
  });
});

describe('compression on the data channel: the body', () => {
  it('gzips a body written in pieces into what gunzip turns back into the same bytes', async () => {
    const text = 'export const x = 1;\n'.repeat(5000);
    const gzip = channelGzip();
    const chunks: Buffer[] = [];
    gzip.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => gzip.on('end', resolve));
    gzip.write(Buffer.from(text.slice(0, 30_000)));
    gzip.end(Buffer.from(text.slice(30_000)));
    await ended;
    const gzipped = Buffer.concat(chunks);
    expect(gzipped.length).toBeLessThan(text.length / 10);
    expect(gunzipSync(gzipped).toString()).toBe(text);
  });
});
