/**
 * The Node viewer (`wingman fetch`, P2P tests) reading a hostile agent's
 * response over a real protocol Connection pair: the body honours the
 * declared Content-Length both ways.
 */
import type { HeaderList, Stream } from '@wingman/protocol';
import { connectedPair, type Pair } from '../../../protocol/test/unit/pair';
import { requestOver } from '../../src/viewer/request';

const enc = (s: string) => new TextEncoder().encode(s);

let pair: Pair;

/** The agent side answers every stream with `headers` and `body` (one chunk), then ends. */
function serve(headers: HeaderList, body: string): void {
  pair.server.on('stream', (stream: Stream) => {
    stream.on('end', () => undefined);
    stream.respond({ status: 200, headers });
    if (body) stream.write(enc(body));
    stream.end();
  });
}

beforeEach(() => {
  pair = connectedPair();
});
afterEach(() => pair.close());

describe('Node viewer: a response body against its Content-Length', () => {
  it('keeps exactly the declared 5 bytes of a 50-byte body', async () => {
    serve([['content-length', '5']], 'hello'.padEnd(50, '!'));
    const res = await requestOver(pair.client, { target: '/' });
    expect((await res.bytes()).toString()).toBe('hello');
  });

  it('fails a body that ends short of its declared length', async () => {
    serve([['content-length', '50']], 'hello');
    const res = await requestOver(pair.client, { target: '/' });
    await expect(res.bytes()).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('fails a response with conflicting Content-Length values', async () => {
    serve(
      [
        ['content-length', '5'],
        ['content-length', '6'],
      ],
      'hello!',
    );
    const res = await requestOver(pair.client, { target: '/' });
    await expect(res.bytes()).rejects.toMatchObject({ code: 'ERR_INVALID_HEADER' });
  });

  it('reads a HEAD answer with a Content-Length and no body as complete', async () => {
    serve([['content-length', '5']], '');
    const res = await requestOver(pair.client, { method: 'HEAD', target: '/' });
    expect((await res.bytes()).length).toBe(0);
  });
});
