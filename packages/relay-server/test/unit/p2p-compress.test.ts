import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { HeaderList } from '@wingman/protocol';
import { acceptsChannelGzip, compressForChannel, gzipBody, P2P_COMPRESS_MIN_BYTES, withChannelCoding } from '../../src/forward/p2p-compress';

const offer: HeaderList = [['x-wingman-accept-coding', 'gzip']];
const js = (length = 64 * 1024, extra: HeaderList = []): HeaderList => [['content-type', 'text/javascript; charset=utf-8'], ['content-length', String(length)], ...extra];
const get = { method: 'GET', headers: offer };

describe('compression on the data channel: which responses', () => {
  it('compresses a large script, stylesheet, JSON or SVG answered 200 to a request that offered gzip', () => {
    for (const type of ['text/javascript', 'application/javascript', 'text/css', 'application/json', 'image/svg+xml', 'text/html', 'application/ld+json'])
      expect([type, compressForChannel(get, 200, [['content-type', type], ['content-length', '10000']])]).toEqual([type, true]);
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
    expect(compressForChannel(get, 200, [['content-type', 'text/event-stream'], ['content-length', '100000']])).toBe(false);
    expect(compressForChannel(get, 200, [['content-type', 'image/png'], ['content-length', '100000']])).toBe(false);
    expect(compressForChannel(get, 200, [['content-type', 'application/octet-stream'], ['content-length', '100000']])).toBe(false);
  });

  it("marks the head with the coding and keeps the app's fields", () => {
    expect(withChannelCoding(js(5000, [['x-wingman-coding', 'br']]))).toEqual([...js(5000), ['x-wingman-coding', 'gzip']]);
  });
});

describe('compression on the data channel: the body', () => {
  it('gzips the whole body', async () => {
    const text = 'export const x = 1;\n'.repeat(5000);
    const chunks: Buffer[] = [];
    for await (const c of gzipBody(Readable.from([Buffer.from(text.slice(0, 30_000)), Buffer.from(text.slice(30_000))]))) chunks.push(c as Buffer);
    expect(gunzipSync(Buffer.concat(chunks)).toString()).toBe(text);
  });

  it('fails the gzipped body when the source fails mid-way', async () => {
    const source = new Readable({ read() {} });
    const out = gzipBody(source);
    const failed = new Promise<Error>((resolve) => out.on('error', resolve));
    const closed = new Promise<void>((resolve) => out.on('close', () => resolve()));
    source.push(Buffer.from('a'.repeat(10_000)));
    source.destroy(new Error('app went away'));
    expect((await failed).message).toMatch(/app went away|premature/);
    await closed;
  });
});
