/**
 * wingman-server's own TLS, which serves browsers HTTP/2 and HTTP/1.1 on one
 * port by default (HTTP2=0: HTTP/1.1 only). A real agent relays to the
 * fixture app; viewers are node's http2 client (ALPN h2) and https/ws clients
 * (ALPN http/1.1), all trusting a throwaway CA.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { AGENT_PATH } from '@wingman/protocol';
import { REVALIDATE_ETAG, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { NGHTTP2_STREAM_RESET_BURST } from '../../packages/tunnel-server/src/http/h2-reset-budget';
import { HTTP2_RETIRE_QUIET_MS } from '../../packages/tunnel-server/src/http/http2-compat';
import { setTimeout as delay } from 'node:timers/promises';
import { killAll, startAgent, startServer, type Proc } from '../helpers/processes';
import { h2Exchange, type H2Reply } from '../helpers/h2-client';
import { createTestCa, type TestCa } from '../helpers/test-ca';

jest.setTimeout(60_000);

/** Requests sent at once on one HTTP/2 connection: well past HTTP/1.1's six connections per host. */
const CONCURRENT_REQUESTS = 60;
/** Requests that each draw a stream reset: past the library's allowance, its burst plus what refills while they run. */
const RESETTING_REQUESTS = 2_000;
/** Of those, one page load's worth, before a pause longer than HTTP2_RETIRE_QUIET_MS. */
const RESETTING_PER_LOAD = 400;
/** The pause between two such loads. */
const BETWEEN_LOADS_MS = HTTP2_RETIRE_QUIET_MS + 300;
/** Of those, sent at once (a page's module wave is wider; a handful keeps requests open across a GOAWAY). */
const RESETTING_BATCH = 8;
/** Bound on one HTTP/2 exchange in these tests (loopback; far below on a quiet machine). */
const EXCHANGE_TIMEOUT_MS = 15_000;

let ca: TestCa;
let cert: { certFile: string; keyFile: string };
let app: FixtureApp;
const sessions: ClientHttp2Session[] = [];
/**
 * The file's server (default settings) and its one session, shared by the tests that use the default: each opens
 * connections of its own, and the server keeps nothing per connection once it is gone (the reset allowance is one
 * connection's).
 */
let shared: Promise<{ port: number; host: string; procs: Proc[] }> | undefined;

beforeAll(async () => {
  ca = createTestCa();
  cert = ca.issue('h2', { serialHex: '3003', altNames: ['DNS:localhost', 'DNS:*.localhost', 'IP:127.0.0.1'] });
  app = await startFixtureApp();
});

afterAll(async () => {
  await killAll();
  await app?.close();
  ca?.remove();
});

afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await killAll(shared ? (await shared).procs : []);
});

/** The file's tunnel, or with `env`, a server and session of the test's own. */
async function startH2Tunnel(env?: Record<string, string>) {
  if (env) return (await ownH2Tunnel(env)).tunnel;
  shared ??= ownH2Tunnel({}).then(({ tunnel, procs }) => ({ ...tunnel, procs }));
  const { port, host } = await shared;
  return { port, host };
}

async function ownH2Tunnel(env: Record<string, string>) {
  const { server, port, url: serverUrl } = await startServer(env, ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
  const { agent, url } = await startAgent(serverUrl, String(app.port), { NODE_EXTRA_CA_CERTS: ca.caFile });
  return { tunnel: { port, host: new URL(url).host }, procs: [server, agent] };
}

/** One HTTP/2 connection to the server, as a browser opens it for `localhost` names. */
function h2(port: number): ClientHttp2Session {
  const session = connect(`https://localhost:${port}`, { ca: ca.caPem });
  session.on('error', () => undefined);
  sessions.push(session);
  return session;
}

/** One request on `session`; rejects on a stream error. */
async function h2Request(session: ClientHttp2Session, authority: string, path: string, options: { method?: string; body?: string } = {}): Promise<H2Reply> {
  const reply = await h2Exchange(session, authority, path, { ...options, timeoutMs: EXCHANGE_TIMEOUT_MS });
  if (reply.error !== undefined) throw new Error(`HTTP/2 ${path}: ${reply.error}`);
  return reply;
}

/** GET over HTTP/1.1 (ALPN http/1.1) to the same port. */
function h1Get(port: number, host: string, path: string): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, servername: 'localhost', ca: ca.caPem, headers: { host }, agent: false, ALPNProtocols: ['http/1.1'] };
    const req = request(options, (res) => {
      const alpn = (res.socket as TLSSocket).alpnProtocol;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A browser's handling of its HTTP/2 connection to one origin: after a
 * GOAWAY, new requests go on a new connection.
 */
interface BrowserConnection {
  session(): ClientHttp2Session;
  /** GOAWAY codes received, what the client was doing at each, and connections opened. */
  goaways: number[];
  goawaysDuring: Phase[];
  connections: number;
  /** What the client is doing (kept by the caller). */
  phase: Phase;
}

/** A page load's requests, the pause between two loads, a navigation's document request. */
type Phase = 'load' | 'pause' | 'navigation';

function browserConnection(port: number): BrowserConnection {
  let open: ClientHttp2Session | undefined;
  const connection: BrowserConnection = {
    goaways: [],
    goawaysDuring: [],
    connections: 0,
    phase: 'load',
    session() {
      if (open && !open.closed && !open.destroyed) return open;
      const s = h2(port);
      connection.connections++;
      s.on('goaway', (code: number) => {
        connection.goaways.push(code);
        connection.goawaysDuring.push(connection.phase);
        if (open === s) open = undefined;
      });
      open = s;
      return s;
    },
  };
  return connection;
}

/**
 * RESETTING_REQUESTS conditional GETs answered 304, RESETTING_BATCH at a
 * time, each reset after its head as Chromium does; a request the server
 * refused (sent after the last stream it took) is sent again once, as
 * browsers do. Returns how the requests ended.
 */
async function revalidateResettingEach(
  t: { host: string },
  connection: BrowserConnection,
  options: { pauseEvery?: number; navigateEvery?: number } = {},
): Promise<{ outcomes: Record<string, number>; goaways: number[]; goawaysDuring: Phase[]; connections: number; refused: number }> {
  let refusedCount = 0;
  const revalidate = (attempt = 0, document = false): Promise<string> =>
    new Promise<string>((resolve) => {
      // As Chromium sends them; a navigation accepts gzip, so the shell comes in one DATA frame as it does to a browser.
      const fetchMetadata = document
        ? { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', 'accept-encoding': 'gzip, deflate, br, zstd' }
        : { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'cors' };
      const stream = connection.session().request({ ':authority': t.host, ':path': '/revalidate', 'if-none-match': REVALIDATE_ETAG, ...fetchMetadata });
      let status = 0;
      stream.on('response', (h) => {
        status = Number(h[':status']);
        // The head ended the stream; Chromium resets it all the same.
        stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.on('error', () => undefined);
      // Whatever body came is read, so the stream closes.
      stream.resume();
      stream.on('close', () => {
        const refused = status === 0 && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
        if (refused) refusedCount++;
        if (refused && attempt === 0) return void revalidate(1, document).then(resolve);
        resolve(status === 0 ? `failed: RST_STREAM ${stream.rstCode}` : String(status));
      });
      stream.end();
    });
  const outcomes: Record<string, number> = {};
  for (let sent = 0; sent < RESETTING_REQUESTS; sent += RESETTING_BATCH) {
    if (options.pauseEvery && sent > 0 && sent % options.pauseEvery === 0) {
      connection.phase = 'pause';
      await delay(BETWEEN_LOADS_MS);
    }
    if (options.navigateEvery && sent > 0 && sent % options.navigateEvery === 0) {
      connection.phase = 'navigation';
      const outcome = await revalidate(0, true);
      outcomes[`navigation ${outcome}`] = (outcomes[`navigation ${outcome}`] ?? 0) + 1;
    }
    connection.phase = 'load';
    for (const outcome of await Promise.all(Array.from({ length: RESETTING_BATCH }, () => revalidate()))) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return { outcomes, goaways: connection.goaways, goawaysDuring: connection.goawaysDuring, connections: connection.connections, refused: refusedCount };
}

type ResettingRun = Awaited<ReturnType<typeof revalidateResettingEach>>;

/**
 * The connection was retired (more than one was used) with NO_ERROR only,
 * before the library's own GOAWAY (INTERNAL_ERROR) could cut requests; with
 * `during`, every GOAWAY came while the client was at that phase and nothing
 * it sent was refused.
 */
function expectRetiredCleanly(run: ResettingRun, during?: Phase): void {
  expect(run.goaways.filter((code) => code !== constants.NGHTTP2_NO_ERROR)).toEqual([]);
  expect(run.connections).toBeGreaterThan(1);
  if (during === undefined) return;
  expect(run.goawaysDuring.filter((phase) => phase !== during)).toEqual([]);
  expect(run.refused).toBe(0);
}

describe('wingman-server with --tls-cert (HTTP/2 on by default)', () => {
  it('relays GET and POST over HTTP/2 to the app with its Host and without pseudo-headers', async () => {
    const t = await startH2Tunnel();
    const session = h2(t.port);
    const got = await h2Request(session, t.host, '/headers');
    expect(session.alpnProtocol).toBe('h2');
    expect(got.status).toBe(200);
    expect(got.headers['x-wingman-transport']).toBe('relay');
    const seen = JSON.parse(got.body) as Record<string, string>;
    expect(Object.keys(seen).filter((k) => k.startsWith(':'))).toEqual([]);
    expect(seen['x-forwarded-host']).toBe(t.host);
    // The Host the app sees is the one it sees over HTTP/1.1.
    const overH1 = JSON.parse((await h1Get(t.port, t.host, '/headers')).body) as Record<string, string>;
    expect(seen.host).toBe(overH1.host);

    const posted = await h2Request(session, t.host, '/echo', { method: 'POST', body: 'a body over h2' });
    expect(posted).toMatchObject({ status: 200, body: 'a body over h2' });
    expect(posted.headers['x-method']).toBe('POST');
  });

  it('streams server-sent events over HTTP/2: the first event arrives before the response ends', async () => {
    const t = await startH2Tunnel();
    const stream = h2(t.port).request({ ':authority': t.host, ':path': '/sse' });
    stream.setEncoding('utf8');
    const chunks: string[] = [];
    const first = new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.on('data', (c: string) => chunks.push(c));
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    await first;
    expect(chunks.join('')).toBe('data: first\n\n');
    app.releaseSse();
    await ended;
    expect(chunks.join('')).toBe('data: first\n\ndata: second\n\n');
  });

  it(`answers ${CONCURRENT_REQUESTS} concurrent requests on one HTTP/2 connection`, async () => {
    const t = await startH2Tunnel();
    const session = h2(t.port);
    const replies = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, (_, i) => h2Request(session, t.host, `/hello?i=${i}`)));
    expect(replies.map((r) => `${r.status} ${r.body}`)).toEqual(Array.from({ length: CONCURRENT_REQUESTS }, () => '200 hello GET'));
    expect(session.closed).toBe(false);
  });

  it(`keeps a client that resets every answered stream (Chromium does after each 304) on working connections past the HTTP/2 library's ${NGHTTP2_STREAM_RESET_BURST}-reset allowance`, async () => {
    const t = await startH2Tunnel();
    // Loads of RESETTING_PER_LOAD requests with a pause between them, as a reviewer reloads.
    const run = await revalidateResettingEach(t, browserConnection(t.port), { pauseEvery: RESETTING_PER_LOAD });
    expect(run.outcomes).toEqual({ '304': RESETTING_REQUESTS });
    // Retired between two loads: in a pause.
    expectRetiredCleanly(run, 'pause');
  });

  it('retires such a connection at the next document request when loads follow each other without a pause', async () => {
    const t = await startH2Tunnel();
    const run = await revalidateResettingEach(t, browserConnection(t.port), { navigateEvery: RESETTING_PER_LOAD });
    const navigations = Math.ceil(RESETTING_REQUESTS / RESETTING_PER_LOAD) - 1;
    // A document request gets the shell (200) whatever its validators.
    expect(run.outcomes).toEqual({ '304': RESETTING_REQUESTS, 'navigation 200': navigations });
    // The document request was taken; the page's next requests went on the new connection.
    expectRetiredCleanly(run, 'navigation');
  });

  it('retires such a connection at once when a stream stays open on it, and that stream still completes', async () => {
    const t = await startH2Tunnel();
    const connection = browserConnection(t.port);
    // A server-sent events stream keeps the connection from ever being quiet.
    const sse = connection.session().request({ ':authority': t.host, ':path': '/sse' });
    sse.setEncoding('utf8');
    let events = '';
    sse.on('data', (c: string) => (events += c));
    const sseEnded = new Promise<void>((resolve) => sse.on('end', resolve));
    await new Promise<void>((resolve) => sse.once('data', () => resolve()));

    const run = await revalidateResettingEach(t, connection);
    expect(run.outcomes).toEqual({ '304': RESETTING_REQUESTS });
    expectRetiredCleanly(run);
    app.releaseSse();
    await sseEnded;
    expect(events).toBe('data: first\n\ndata: second\n\n');
  });

  it('grants uploads a 2 MiB stream window and an 8 MiB connection window, not the protocol default of 64 KiB per round trip', async () => {
    const t = await startH2Tunnel();
    const session = h2(t.port);
    const settled = await h2Request(session, t.host, '/hello');
    expect(settled.status).toBe(200);
    expect(session.remoteSettings.initialWindowSize).toBe(2 * 1024 * 1024);
    expect(session.state.remoteWindowSize).toBe(8 * 1024 * 1024);
  });

  it('serves the apex landing page and /healthz over HTTP/2 and HTTP/1.1', async () => {
    const t = await startH2Tunnel();
    const apex = `localhost:${t.port}`;
    const session = h2(t.port);
    const health = await h2Request(session, apex, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ ok: true, sessions: 1 });
    const landing = await h2Request(session, apex, '/');
    expect(landing.status).toBe(200);
    expect(landing.headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await h2Request(session, apex, AGENT_PATH)).status).toBe(426);
    expect((await h2Request(session, apex, '/nope')).status).toBe(404);

    const h1 = await h1Get(t.port, apex, '/healthz');
    expect(h1).toMatchObject({ status: 200, alpn: 'http/1.1' });
    expect(JSON.parse(h1.body)).toMatchObject({ ok: true });
  });

  it('still serves HTTP/1.1 clients and relays WebSockets over HTTP/1.1 on the same port', async () => {
    const t = await startH2Tunnel();
    expect(await h1Get(t.port, t.host, '/hello')).toMatchObject({ status: 200, body: 'hello GET', alpn: 'http/1.1' });
    // The agent itself registered over wss on this port (startAgent waited for it); now a relayed app WebSocket.
    // servername goes on to tls.connect (the ws types leave it out).
    const tlsOptions = { headers: { host: t.host }, servername: 'localhost', ca: ca.caPem };
    const ws = new WebSocket(`wss://127.0.0.1:${t.port}/ws`, tlsOptions);
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('over wss'));
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
    });
    expect(echoed).toBe('over wss');
    ws.close();
  });

  it('offers only HTTP/1.1 with HTTP2=0', async () => {
    const t = await startH2Tunnel({ HTTP2: '0' });
    const session = h2(t.port);
    const failed = await new Promise<Error | undefined>((resolve) => {
      session.once('connect', () => resolve(undefined));
      session.once('error', (err) => resolve(err));
    });
    expect(failed).toBeDefined();
    expect(await h1Get(t.port, t.host, '/hello')).toMatchObject({ status: 200, alpn: 'http/1.1' });
  });
});
