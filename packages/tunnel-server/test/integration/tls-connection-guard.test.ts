/**
 * The descriptor reserve (listener/connection-guard.ts) on the server's own TLS
 * port: a connection admitted past `limit − reserve` may only ask for
 * /healthz, over HTTP/2 and over HTTP/1.1 alike. The guard counts TCP
 * connections; the request it judges arrives on the TLS socket (and, over
 * HTTP/2, on a stream of it).
 */
import { readdirSync } from 'node:fs';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { h2Exchange } from '../../../../test/helpers/h2-client';
import { createTestCa, type TestCa } from '../../../../test/helpers/test-ca';
import { TEST_TOKEN } from './helpers/test-agent';

jest.setTimeout(30_000);

/** Descriptors kept for health checks in this test: room for the flood below before the hard reserve. */
const FD_RESERVE = 64;
/** Idle TCP connections opened first: past `limit − reserve`, short of `limit − 16`. */
const FLOOD = 40;
/** Bound on one exchange (loopback). */
const EXCHANGE_TIMEOUT_MS = 10_000;

let ca: TestCa;
let cert: { certFile: string; keyFile: string };
let server: TunnelServer;
const flood: Socket[] = [];
let session: ClientHttp2Session | undefined;

beforeAll(() => {
  ca = createTestCa();
  cert = ca.issue('guard', { serialHex: '6006', altNames: ['DNS:localhost', 'IP:127.0.0.1'] });
});

afterAll(() => ca?.remove());

beforeEach(async () => {
  // The guard estimates open descriptors as those open at its start plus its connections.
  const fdLimit = readdirSync('/proc/self/fd').length + FD_RESERVE + 26;
  server = await createTunnelServer({
    port: 0,
    tokens: [TEST_TOKEN],
    logLevel: 'silent',
    tlsCertFile: cert.certFile,
    tlsKeyFile: cert.keyFile,
    limits: { fdReserve: FD_RESERVE },
    fdLimit,
  });
  await Promise.all(
    Array.from(
      { length: FLOOD },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(server.port, '127.0.0.1');
          flood.push(s);
          s.on('error', () => undefined);
          s.once('connect', () => resolve());
          s.once('close', () => resolve());
        }),
    ),
  );
});

afterEach(async () => {
  session?.destroy();
  for (const s of flood.splice(0)) s.destroy();
  await server.close();
});

async function h2Get(path: string): Promise<{ status: number; body: string }> {
  session ??= connectH2(`https://localhost:${server.port}`, { ca: ca.caPem });
  session.on('error', () => undefined);
  const { status, body, error } = await h2Exchange(session, `localhost:${server.port}`, path, { timeoutMs: EXCHANGE_TIMEOUT_MS });
  if (error !== undefined) throw new Error(`HTTP/2 ${path}: ${error}`);
  return { status, body };
}

function h1Get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: server.port, path, servername: 'localhost', ca: ca.caPem, agent: false, ALPNProtocols: ['http/1.1'] };
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the descriptor reserve on the TLS port', () => {
  it('answers an HTTP/2 connection past the reserve 503 ERR_OVERLOADED, except for /healthz', async () => {
    const refused = await h2Get('/');
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('ERR_OVERLOADED');
    expect((await h2Get('/healthz')).status).toBe(200);
  });

  it('answers an HTTP/1.1 connection past the reserve 503 ERR_OVERLOADED, except for /healthz', async () => {
    const refused = await h1Get('/');
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('ERR_OVERLOADED');
    expect((await h1Get('/healthz')).status).toBe(200);
  });
});
