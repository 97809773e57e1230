/**
 * A hostile agent whose body disagrees with its own Content-Length, seen by
 * a viewer over one HTTP/2 connection (--tls-cert with --http2): only that
 * request's stream may fail; the browser's other requests on the connection
 * carry on.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
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

interface Outcome {
  status: number;
  body: string;
  /** The stream's error code, when it failed. */
  error?: string;
}

function exchange(path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const stream = session.request({ ':authority': agent.host, ':path': path });
    const timer = setTimeout(() => stream.close(), EXCHANGE_TIMEOUT_MS);
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status, body });
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status, body, error: err.code ?? err.message });
    });
  });
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
