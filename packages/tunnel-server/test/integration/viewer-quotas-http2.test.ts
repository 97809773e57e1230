/**
 * The per-viewer stream quota over HTTP/2 (the server's own TLS): one HTTP/2
 * connection carries many requests, and the quota still bounds what one
 * viewer holds on a session, stream by stream, while the connection carries on.
 */
import { constants, type ClientHttp2Stream } from 'node:http2';
import { until } from '../../../../test/helpers/wait';
import { createFixture } from './helpers/fixture-handler';
import { useH2Viewer } from './helpers/h2-viewer';

jest.setTimeout(30_000);

/** The agent accepts 16 streams at once: a viewer's quota is a quarter of it, 4. */
const AGENT_STREAMS = 16;
const QUOTA = AGENT_STREAMS / 4;
/** Bound on one response head (loopback). */
const HEAD_TIMEOUT_MS = 10_000;

const h2 = useH2Viewer('7007', createFixture().handler, { maxConcurrentStreams: AGENT_STREAMS });

/** Opens a request and resolves with its status once the head arrives (the body may never end). */
function head(path: string): Promise<{ status: number; stream: ClientHttp2Stream }> {
  return new Promise((resolve, reject) => {
    const stream = h2.session.request({ ':authority': h2.agent.host, ':path': path });
    const timer = setTimeout(() => reject(new Error(`no head for ${path} in time`)), HEAD_TIMEOUT_MS);
    stream.on('error', () => undefined);
    stream.once('response', (h) => {
      clearTimeout(timer);
      resolve({ status: Number(h[':status']), stream });
    });
    stream.end();
  });
}

describe('per-viewer stream quota over HTTP/2', () => {
  it('refuses streams over the quota on one connection with 503 and gives the slot back when a held stream is cancelled', async () => {
    const held = await Promise.all(Array.from({ length: QUOTA + 2 }, () => head('/hang')));
    const statuses = held.map((h) => h.status).sort();
    expect(statuses).toEqual([...Array<number>(QUOTA).fill(200), 503, 503]);

    for (const h of held.filter((x) => x.status === 200)) h.stream.close(constants.NGHTTP2_CANCEL);
    // The slots return once the server has seen the resets (nothing announces that): a bounded retry, not a timed assertion.
    let status = 0;
    await until(
      async () => {
        const r = await head('/hello');
        status = r.status;
        r.stream.close();
        return status === 200;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'a slot for the viewer again', observe: () => `status ${status}` },
    );
    expect(h2.session.closed).toBe(false);
  });
});
