/**
 * A hostile agent whose body disagrees with its own Content-Length, seen by
 * a viewer over one HTTP/2 connection (--tls-cert with --http2): only that
 * request's stream may fail; the browser's other requests on the connection
 * carry on.
 */
import { h2Exchange, type H2Reply } from '../../../../test/helpers/h2-client';
import { hostile } from './helpers/hostile-agent';
import { useH2Viewer } from './helpers/h2-viewer';

jest.setTimeout(30_000);

/** Bound on one exchange (loopback). */
const EXCHANGE_TIMEOUT_MS = 10_000;

const h2 = useH2Viewer('4004', hostile);

/** Status, body and the stream's error code, if any (the head's other fields are not asserted here). */
async function exchange(path: string): Promise<Pick<H2Reply, 'status' | 'body' | 'error'>> {
  const { status, body, error } = await h2Exchange(h2.session, h2.agent.host, path, { timeoutMs: EXCHANGE_TIMEOUT_MS });
  return { status, body, error };
}

describe("relay enforces the agent's Content-Length on an HTTP/2 stream", () => {
  it('fails only the stream of a body shorter than declared: the next request on the connection is answered', async () => {
    const short = await exchange('/short');
    expect(short.status).toBe(200);
    expect(short.error).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(h2.session.closed || h2.session.destroyed).toBe(false);
    expect(await exchange('/ok')).toEqual({ status: 200, body: 'ok' });
  });

  it('delivers exactly the declared bytes of a longer body and keeps the connection for the next request', async () => {
    const excess = await exchange('/excess');
    expect(excess).toEqual({ status: 200, body: 'hello' });
    expect(await exchange('/ok')).toEqual({ status: 200, body: 'ok' });
  });
});
