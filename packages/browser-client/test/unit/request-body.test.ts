/**
 * A request body made ready for P2P: whole, with its length, as a browser
 * sends a Blob, form or string body; a body still being produced (a
 * streaming upload) goes on as a stream, length unknown, as a browser
 * streams it.
 */
import { bodyStream, contentLengthOf, prepareBody } from '../../src/sw/request-body';

const limits = { maxBytes: 1024, idleMs: 50 };

async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) return '';
  return new Response(stream).text();
}

describe('prepareBody', () => {
  it('reads a body that is all there into bytes, with its length', async () => {
    const body = await prepareBody(new Request('http://x/', { method: 'POST', body: 'a=1&b=2' }), limits);
    expect(body.kind).toBe('bytes');
    expect(contentLengthOf('POST', body)).toBe(7);
    expect(await readAll(bodyStream(body))).toBe('a=1&b=2');
  });

  it('gives a POST or PUT without a body Content-Length 0, and GET, DELETE none', async () => {
    for (const [method, expected] of [
      ['POST', 0],
      ['PUT', 0],
      ['DELETE', undefined],
      ['GET', undefined],
    ] as const) {
      const body = await prepareBody(new Request('http://x/', { method }), limits);
      expect([method, contentLengthOf(method, body)]).toEqual([method, expected]);
    }
  });

  it('streams a body that pauses longer than the idle limit, keeping what was read', async () => {
    let push!: (s: string) => void;
    let end!: () => void;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (s) => controller.enqueue(new TextEncoder().encode(s));
        end = () => controller.close();
      },
    });
    push('first ');
    const request = new Request('http://x/', { method: 'POST', body: source, duplex: 'half' } as RequestInit);
    const body = await prepareBody(request, limits);
    expect(body.kind).toBe('stream');
    expect(contentLengthOf('POST', body)).toBeUndefined();
    push('second');
    end();
    expect(await readAll(bodyStream(body))).toBe('first second');
  });

  it('streams a body larger than the buffering limit, whole', async () => {
    const big = 'x'.repeat(3000);
    const body = await prepareBody(new Request('http://x/', { method: 'POST', body: big }), limits);
    expect(body.kind).toBe('stream');
    expect(await readAll(bodyStream(body))).toBe(big);
  });
});
