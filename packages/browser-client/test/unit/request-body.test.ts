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

/** A POST whose body the page produces as it goes: `push` a chunk, `end` it. */
function pageStream(): { push(s: string): void; end(): void; request: Request } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const source = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    push: (s) => controller.enqueue(new TextEncoder().encode(s)),
    end: () => controller.close(),
    request: new Request('http://x/', { method: 'POST', body: source, duplex: 'half' } as RequestInit),
  };
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
    const { push, end, request } = pageStream();
    push('first ');
    const body = await prepareBody(request, limits);
    expect(body.kind).toBe('stream');
    expect(contentLengthOf('POST', body)).toBeUndefined();
    push('second');
    end();
    expect(await readAll(bodyStream(body))).toBe('first second');
  });

  it("reads a body whole when its next chunk came while the Service Worker's thread was starved past the idle limit", async () => {
    const { push, end, request } = pageStream();
    push('first ');
    const prepared = prepareBody(request, limits);
    // Once the wait for the next chunk began: that chunk is due just after the idle limit, and the thread is busy past
    // both, as on a loaded machine (the chunk's task then runs after the idle timer's).
    setTimeout(() => {
      setTimeout(() => {
        push('second');
        end();
      }, limits.idleMs + 10);
      const until = performance.now() + limits.idleMs + 300;
      while (performance.now() < until);
    }, 0);
    const body = await prepared;
    expect(body.kind).toBe('bytes');
    expect(contentLengthOf('POST', body)).toBe(12);
  });

  it('streams a body larger than the buffering limit, whole', async () => {
    const big = 'x'.repeat(3000);
    const body = await prepareBody(new Request('http://x/', { method: 'POST', body: big }), limits);
    expect(body.kind).toBe('stream');
    expect(await readAll(bodyStream(body))).toBe(big);
  });
});
