/**
 * A hostile agent whose body disagrees with its own Content-Length, seen by
 * a viewer over one HTTP/2 connection (--tls-cert with --http2): only that
 * request's stream may fail; the browser's other requests on the connection
 * carry on.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { h2Exchange, type H2Reply } from '../../../../test/helpers/h2-client';
import { createTestCa, type TestCa } from '../../../../test/helpers/test-ca';
import { hostile } from './helpers/hostile-agent';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';

jest.setTimeout(30_000);

/** Bound on one exchange (loopback). */
const EXCHANGE_TIMEOUT_MS = 10_000;

let ca: TestCa;
let cert: { certFile: string; keyFile: string };
let server: TunnelServer;
let agent: TestAgent;
let session: ClientHttp2Session;

beforeAll(() => {
  ca = createTestCa();
  cert = ca.issue('h2', { serialHex: '4004', altNames: ['DNS:localhost', 'DNS:*.localhost'] });
});

afterAll(() => ca?.remove());

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile, http2: true });
  agent = await connectTestAgent(server.port, hostile, { tlsCa: ca.caPem });
  session = connect(`https://localhost:${server.port}`, { ca: ca.caPem });
  session.on('error', () => undefined);
});

afterEach(async () => {
  session.destroy();
  closeAllAgents();
  await server.close();
});

/** Status, body and the stream's error code, if any (the head's other fields are not asserted here). */
async function exchange(path: string): Promise<Pick<H2Reply, 'status' | 'body' | 'error'>> {
  const { status, body, error } = await h2Exchange(session, agent.host, path, { timeoutMs: EXCHANGE_TIMEOUT_MS });
  return { status, body, error };
}

describe("relay enforces the agent's Content-Length on an HTTP/2 stream", () => {
  it('fails only the stream of a body shorter than declared: the next request on the connection is answered', async () => {
    const short = await exchange('/short');
    expect(short.status).toBe(200);
    expect(short.error).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(session.closed || session.destroyed).toBe(false);
    expect(await exchange('/ok')).toEqual({ status: 200, body: 'ok' });
  });

  it('delivers exactly the declared bytes of a longer body and keeps the connection for the next request', async () => {
    const excess = await exchange('/excess');
    expect(excess).toEqual({ status: 200, body: 'hello' });
    expect(await exchange('/ok')).toEqual({ status: 200, body: 'ok' });
  });
});
