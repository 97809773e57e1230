/**
 * The Service Worker's Response for a P2P answer whose body disagrees with
 * its Content-Length (a hostile agent), built by the real buildResponse with
 * Node's fetch/streams classes (the same WHATWG APIs as a browser's).
 */
import { buildResponse, type Incoming } from '../../src/sw/build-response';
import type { SwCookies } from '../../src/sw/cookies';

const cookies = { store: async () => undefined } as unknown as SwCookies;

function p2p(headers: Array<[string, string]>, chunks: string[]): Incoming {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
  return { status: 200, headers, body, transport: 'p2p' };
}

function build(incoming: Incoming): Promise<Response> {
  const url = new URL('http://abc.localhost:8080/data');
  return buildResponse(incoming, { request: new Request(url), url, cookies });
}

describe('Service Worker: a P2P body against its Content-Length', () => {
  it('ends the body after exactly the declared 5 bytes of 50', async () => {
    const res = await build(p2p([['content-length', '5']], ['hel', 'lo'.padEnd(47, '!')]));
    expect(await res.text()).toBe('hello');
  });

  it('fails the read of a body that ends short of its declared length', async () => {
    const res = await build(p2p([['content-length', '50']], ['hello']));
    await expect(res.text()).rejects.toThrow(/ended after 5 of 50 declared bytes/);
  });

  it('answers 502 to conflicting Content-Length values', async () => {
    const res = await build(
      p2p(
        [
          ['content-length', '5'],
          ['content-length', '6'],
        ],
        ['hello!'],
      ),
    );
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('ERR_INVALID_HEADER');
  });

  it('passes a body of exactly its declared length, and one without a length, untouched', async () => {
    expect(await (await build(p2p([['content-length', '5']], ['hel', 'lo']))).text()).toBe('hello');
    expect(await (await build(p2p([], ['any ', 'length']))).text()).toBe('any length');
  });
});
