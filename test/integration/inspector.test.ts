/**
 * The agent's local inspector, through real processes on loopback: the
 * tunnel server and `wingman http` as child processes, a local app that
 * counts what reaches it, and the inspector's JSON API on 127.0.0.1.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { send } from '../helpers/http-client';
import { killAll, runWingmanFetch, startAgent, startTunnel, type Tunnel } from '../helpers/processes';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

/** Small, so truncation is easy to reach. */
const BODY_LIMIT = 4096;

interface Hit {
  method: string;
  path: string;
  body: Buffer;
  /** The head as it arrived: [name, value, …] in wire order and case. */
  rawHeaders: string[];
}

let app: { port: number; hits: Hit[]; close(): Promise<void> };
let t: Tunnel;
let inspector: number;

/** A local app that records every request and answers by path. */
async function startCountingApp(): Promise<typeof app> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      hits.push({ method: req.method ?? '', path: req.url ?? '', body, rawHeaders: req.rawHeaders });
      if (req.url?.startsWith('/json')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ok: true, got: body.toString() }));
      }
      if (req.url?.startsWith('/missing')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('not here');
      }
      // Everything else echoes the body back as bytes.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-app-method': req.method ?? '' });
      res.end(body);
    });
  });
  // A socket's handshake is recorded as a hit too.
  new WebSocketServer({ server, path: '/ws' }).on('connection', (ws, req) => {
    hits.push({ method: 'GET', path: req.url ?? '', body: Buffer.alloc(0), rawHeaders: req.rawHeaders });
    ws.on('message', (m) => ws.send(m));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface ApiReply {
  status: number;
  headers: IncomingHttpHeaders;
  json: any;
}

/** A request to the inspector, with its own Host unless told otherwise. */
function inspect(path: string, opts: { method?: string; body?: unknown; headers?: Record<string, string>; port?: number } = {}): Promise<ApiReply> {
  const port = opts.port ?? inspector;
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Opens /api/events, runs `act` once it streams, and resolves once a request event for `path` came: an exchange
 * carried by a P2P host process reaches the inspector a moment after its response (host-process.ts batches them).
 */
async function whenStreamed<T>(path: string, act: () => Promise<T>): Promise<{ events: string; result: T }> {
  const events: string[] = [];
  let result: Promise<T> | undefined;
  const streamed = new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port: inspector, path: '/api/events', headers: { host: `localhost:${inspector}` } }, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      res.on('data', (c: Buffer) => {
        events.push(c.toString());
        if (events.join('').includes(`"path":${JSON.stringify(path)}`)) {
          req.destroy();
          resolve();
        }
      });
      // The stream is open: make the request it must report.
      result = act();
      result.catch(() => undefined); // awaited below
    });
    req.on('error', () => undefined);
    req.end();
  });
  await withTimeout(streamed, { timeoutMs: 10_000, what: `a request event for ${path} on /api/events`, observe: () => events.join('') });
  return { events: events.join(''), result: await result! };
}

/** The newest entry whose path starts with `path`. */
async function entryFor(path: string): Promise<any> {
  const { json } = await inspect(`/api/requests?path=${encodeURIComponent(path)}`);
  expect(json.requests.length).toBeGreaterThan(0);
  return json.requests[0];
}

beforeAll(async () => {
  app = await startCountingApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--inspect', '0', '--inspect-body-limit', String(BODY_LIMIT)] });
  const ready = t.agent.events.find((e) => e.event === 'ready')!;
  inspector = Number(new URL(String(ready.inspector)).port);
});

afterAll(async () => {
  await killAll();
  await app.close();
});

describe('inspector API (relay)', () => {
  it('names its URL on 127.0.0.1 in the ready event and describes the tunnel', async () => {
    const ready = t.agent.events.find((e) => e.event === 'ready')!;
    expect(ready.inspector).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { json } = await inspect('/api/tunnels');
    expect(json.tunnels).toEqual([{ publicUrl: t.url, sessionId: t.sessionId, target: `http://localhost:${app.port}`, p2p: true, access: 'link' }]);
  });

  it('lists a relayed request with its status, sizes, transport and viewer, and shows its heads and JSON bodies', async () => {
    const r = await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/json/one?x=1',
      body: Buffer.from('{"hello":"world"}'),
      headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
    });
    expect(r.status).toBe(200);
    const e = await entryFor('/json/one');
    expect(e).toMatchObject({
      method: 'POST',
      path: '/json/one?x=1',
      status: 200,
      transport: 'relay',
      viewer: expect.stringMatching(/^[0-9a-f]{32}$/),
      requestSize: 17,
      responseSize: r.body.length,
      contentType: 'application/json',
    });
    const { json: d } = await inspect(`/api/requests/${e.id}`);
    expect(d.request.headers).toContainEqual(['x-trace', 'abc']);
    // As the app received it: its own Host, the viewer's in X-Forwarded-Host.
    expect(d.request.headers).toContainEqual(['host', `localhost:${app.port}`]);
    expect(d.request.headers).toContainEqual(['x-forwarded-host', t.host]);
    expect(Buffer.from(d.request.body.data, 'base64').toString()).toBe('{"hello":"world"}');
    expect(d.response.headers).toContainEqual(['x-wingman-transport', 'relay']);
    expect(JSON.parse(Buffer.from(d.response.body.data, 'base64').toString())).toEqual({ ok: true, got: '{"hello":"world"}' });
    expect(d.response.body.truncated).toBe(false);
  });

  it('keeps binary bodies byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await send(t.serverPort, t.host, { method: 'PUT', path: '/bin', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    const { json: d } = await inspect(`/api/requests/${(await entryFor('/bin')).id}`);
    expect(Buffer.from(d.request.body.data, 'base64').equals(bytes)).toBe(true);
    expect(Buffer.from(d.response.body.data, 'base64').equals(bytes)).toBe(true);
  });

  it('keeps bodies up to --inspect-body-limit and marks them truncated, while the viewer gets every byte', async () => {
    const big = Buffer.alloc(BODY_LIMIT * 3 + 5, 0x61);
    const r = await send(t.serverPort, t.host, { method: 'POST', path: '/big', body: big });
    expect(r.body.equals(big)).toBe(true);
    const e = await entryFor('/big');
    expect(e).toMatchObject({ requestSize: big.length, responseSize: big.length });
    const { json: d } = await inspect(`/api/requests/${e.id}`);
    for (const body of [d.request.body, d.response.body]) {
      expect(body).toMatchObject({ size: big.length, truncated: true });
      expect(Buffer.from(body.data, 'base64').length).toBe(BODY_LIMIT);
    }
    // A truncated body cannot be replayed as captured; an explicit one can.
    const refused = await inspect(`/api/requests/${e.id}/replay`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('ERR_BODY_TRUNCATED');
  });

  it('replays a request straight to the local app as a new entry marked replay', async () => {
    await send(t.serverPort, t.host, { method: 'POST', path: '/json/replay-me', body: Buffer.from('payload') });
    const original = await entryFor('/json/replay-me');
    const before = app.hits.filter((h) => h.path === '/json/replay-me').length;
    const r = await inspect(`/api/requests/${original.id}/replay`, { method: 'POST' });
    expect(r.status).toBe(201);
    expect(r.json.request).toMatchObject({ method: 'POST', path: '/json/replay-me', status: 200, transport: 'replay', replayOf: original.id });
    expect(r.json.request.id).toBeGreaterThan(original.id);
    const hits = app.hits.filter((h) => h.path === '/json/replay-me');
    expect(hits.length).toBe(before + 1);
    expect(hits[hits.length - 1]!.body.toString()).toBe('payload');
    const { json: d } = await inspect(`/api/requests/${r.json.request.id}`);
    expect(JSON.parse(Buffer.from(d.response.body.data, 'base64').toString())).toEqual({ ok: true, got: 'payload' });
  });

  it('shows the request as the app received it, Origin and Referer translated, and replays those very bytes', async () => {
    const session = `http://${t.host}`;
    await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/json/form',
      body: Buffer.from('a=1'),
      headers: { origin: session, referer: `${session}/form?step=2`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    const original = app.hits[app.hits.length - 1]!;
    expect(original.path).toBe('/json/form');
    const { json: d } = await inspect(`/api/requests/${(await entryFor('/json/form')).id}`);
    const appOrigin = `http://localhost:${app.port}`;
    expect(d.request.headers).toEqual(
      expect.arrayContaining([
        ['host', `localhost:${app.port}`],
        ['origin', appOrigin],
        ['referer', `${appOrigin}/form?step=2`],
      ]),
    );
    // The inspector's head is the one the app got, field for field (names lower-cased).
    const lowered = (raw: string[]) => raw.map((v, i) => (i % 2 === 0 ? v.toLowerCase() : v));
    // Connection is the HTTP client's own (a replay's connection is not kept open).
    const withoutConnection = (raw: string[]) => lowered(raw).flatMap((v, i, all) => (i % 2 === 0 ? (v === 'connection' ? [] : [[v, all[i + 1]!]]) : []));
    expect(d.request.headers).toEqual(withoutConnection(original.rawHeaders));
    const r = await inspect(`/api/requests/${d.id}/replay`, { method: 'POST' });
    expect(r.status).toBe(201);
    const replayed = app.hits[app.hits.length - 1]!;
    expect(replayed.path).toBe('/json/form');
    expect(withoutConnection(replayed.rawHeaders)).toEqual(withoutConnection(original.rawHeaders));
    expect(replayed.body.toString()).toBe('a=1');
  });

  it("shows a WebSocket's handshake as the app received it, its Origin translated", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/ws`, { headers: { host: t.host, origin: `http://${t.host}` } });
    await once(ws, 'open');
    ws.close();
    const handshake = app.hits[app.hits.length - 1]!;
    expect(handshake.path).toBe('/ws');
    const { json: d } = await inspect(`/api/requests/${(await entryFor('/ws')).id}`);
    expect(d).toMatchObject({ websocket: true, status: 101 });
    // The head shown is the one the app got, field for field (names lower-cased), the WebSocket client's own fields included.
    const received = handshake.rawHeaders.flatMap((v, i, all) => (i % 2 === 0 ? [[v.toLowerCase(), all[i + 1]!]] : []));
    expect(d.request.headers).toEqual(received);
    expect(d.request.headers).toContainEqual(['origin', `http://localhost:${app.port}`]);
    expect((d.request.headers as Array<[string, string]>).map(([name]) => name)).toEqual(
      expect.arrayContaining(['sec-websocket-key', 'sec-websocket-version', 'upgrade', 'connection']),
    );
  });

  it('edit-and-replay sends the edited method, path, headers and body', async () => {
    await send(t.serverPort, t.host, { method: 'POST', path: '/echo-orig', body: Buffer.from('old') });
    const original = await entryFor('/echo-orig');
    const r = await inspect(`/api/requests/${original.id}/replay`, {
      method: 'POST',
      body: { method: 'PATCH', path: '/echo-edited?v=2', headers: [['x-edited', 'yes']], body: 'bmV3', bodyEncoding: 'base64' },
    });
    expect(r.status).toBe(201);
    expect(r.json.request).toMatchObject({
      method: 'PATCH',
      path: '/echo-edited?v=2',
      status: 200,
      transport: 'replay',
      replayOf: original.id,
      requestSize: 3,
    });
    const hit = app.hits[app.hits.length - 1]!;
    expect(hit).toMatchObject({ method: 'PATCH', path: '/echo-edited?v=2' });
    expect(hit.body.toString()).toBe('new');
  });

  it('refuses replay edits that are not an origin-form path, a token method or clean headers', async () => {
    await send(t.serverPort, t.host, { path: '/json/validate' });
    const { id } = await entryFor('/json/validate');
    const hitsBefore = app.hits.length;
    for (const body of [{ path: 'http://example.com/' }, { method: 'GE T' }, { headers: [['x', 'a\r\nb']] }, { unknown: 1 }, 'not an object']) {
      const r = await inspect(`/api/requests/${id}/replay`, { method: 'POST', body });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('ERR_INVALID_BODY');
    }
    expect(app.hits.length).toBe(hitsBefore);
    expect((await inspect('/api/requests/999999/replay', { method: 'POST' })).status).toBe(404);
  });

  it('filters by method, status class, transport, path and header', async () => {
    await send(t.serverPort, t.host, { path: '/missing/f1', headers: { 'x-filter': 'alpha' } });
    await send(t.serverPort, t.host, { method: 'DELETE', path: '/json/f2' });
    const list = async (q: string) => (await inspect(`/api/requests?${q}`)).json.requests.map((e: any) => e.path);
    expect(await list('status=4xx&path=/f')).toEqual(['/missing/f1']);
    expect(await list('status=404&path=/missing/f1')).toEqual(['/missing/f1']);
    expect(await list('method=DELETE&path=/f2')).toEqual(['/json/f2']);
    expect(await list('header=x-filter:alph')).toEqual(['/missing/f1']);
    expect(await list('transport=relay&path=/json/f2')).toEqual(['/json/f2']);
    expect(await list('transport=p2p&path=/json/f2')).toEqual([]);
    expect((await inspect('/api/requests?status=abc')).json.error.code).toBe('ERR_INVALID_QUERY');
  });

  it('streams each new request to /api/events as it completes', async () => {
    const { events } = await whenStreamed('/json/live', () => send(t.serverPort, t.host, { path: '/json/live' }));
    expect(events).toMatch(/event: request\ndata: \{"id":\d+,"method":"GET","path":"\/json\/live","status":200/);
  });

  it('refuses a foreign Host (DNS rebinding) and a cross-site Origin on state changes', async () => {
    const rebound = await inspect('/api/requests', { headers: { host: `rebind.example:${inspector}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.json.error.code).toBe('ERR_INSPECTOR_HOST');
    expect((await inspect('/', { headers: { host: 'localhost' } })).status).toBe(403);
    const csrf = await inspect('/api/requests', { method: 'DELETE', headers: { origin: 'http://evil.example' } });
    expect(csrf.status).toBe(403);
    expect(csrf.json.error.code).toBe('ERR_INSPECTOR_ORIGIN');
    expect((await inspect('/api/requests')).json.requests.length).toBeGreaterThan(0);
    const page = await inspect('/api/tunnels', { headers: { host: `localhost:${inspector}` } });
    expect(page.status).toBe(200);
  });

  it('clears on DELETE, and ids keep growing afterwards', async () => {
    await send(t.serverPort, t.host, { path: '/json/before-clear' });
    const last = (await entryFor('/json/before-clear')).id;
    expect((await inspect('/api/requests', { method: 'DELETE', headers: { origin: `http://127.0.0.1:${inspector}` } })).status).toBe(204);
    expect((await inspect('/api/requests')).json.requests).toEqual([]);
    expect((await inspect(`/api/requests/${last}`)).status).toBe(404);
    await send(t.serverPort, t.host, { path: '/json/after-clear' });
    expect((await entryFor('/json/after-clear')).id).toBeGreaterThan(last);
  });

  it('shows a request served peer-to-peer as transport p2p with the viewer id', async () => {
    const { result: run } = await whenStreamed('/json/over-p2p', () => runWingmanFetch(['--p2p-only', `${t.url}json/over-p2p`]));
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/200 via p2p/);
    const e = await entryFor('/json/over-p2p');
    expect(e).toMatchObject({ status: 200, transport: 'p2p' });
    expect(e.viewer).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    const { json: d } = await inspect(`/api/requests/${e.id}`);
    expect(d.response.headers).toContainEqual(['x-wingman-transport', 'p2p']);
    expect(d.request.headers).toContainEqual(['host', `localhost:${app.port}`]);
    expect(JSON.parse(Buffer.from(d.response.body.data, 'base64').toString())).toEqual({ ok: true, got: '' });
  });
});

describe('inspector port', () => {
  it('takes the next port when the asked one is taken, and is absent with --inspect false', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const serverUrl = `http://127.0.0.1:${t.serverPort}`;
      const next = await startAgent(serverUrl, String(app.port), {}, ['--inspect', String(taken), '--new-session', '--no-p2p']);
      const ready = next.agent.events.find((e) => e.event === 'ready')!;
      expect(Number(new URL(String(ready.inspector)).port)).toBeGreaterThan(taken);
      await next.agent.kill();
      const off = await startAgent(serverUrl, String(app.port), {}, ['--inspect', 'false', '--new-session', '--no-p2p']);
      expect(off.agent.events.find((e) => e.event === 'ready')).not.toHaveProperty('inspector');
    } finally {
      blocker.close();
    }
  });
});
