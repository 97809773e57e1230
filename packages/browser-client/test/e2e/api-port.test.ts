/**
 * A front end whose page calls its API on the API's own local port, as a
 * developer runs them (`VITE_API_URL=http://localhost:<api>`): fetch() with
 * a string and with a Request, an axios-style XMLHttpRequest, an EventSource,
 * and a WebSocket to a socket server on a third port. The API allows the
 * front end's local origin by CORS (preflights included), as it must for
 * the page to work locally. Shared under one link (`wingman http <front>
 * --route /api=<api> --route /ws=<socket>`), the reviewer's browser has none
 * of those ports: the shim carries each call to the session, whose routes
 * serve it (shim/app-port.ts). The page must get what it gets locally, in
 * Chromium and Firefox over P2P and over the Service Worker's relay, and in
 * WebKit over the relay (it has no WebRTC here); the reference is the same
 * browser on the local setup. On this bench the API
 * listens beside the browser, so each call is also checked to have passed
 * through the agent, on its route.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { useEnginePair, WEBRTC_ENGINES } from './helpers/engines';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import { shellAppFrame, useWebKit } from './support/webkit-stack';

jest.setTimeout(180_000);

/** The front end's page: its calls run on demand (`runCalls`), each answer as the page read it, or the failure's name. */
const page = (api: number, socket: number) => `<!doctype html><html><head><meta charset="utf-8"><title>api port</title></head><body>
<script>
window.pageName = 'api-port';
const read = (p) => p.then(async (r) => r.status + ' ' + (await r.text()), (e) => e.name);
// As axios's XHR adapter sends a JSON body.
const xhr = (method, url, body) => new Promise((resolve) => {
  const x = new XMLHttpRequest();
  x.open(method, url, true);
  x.setRequestHeader('Accept', 'application/json, text/plain, */*');
  x.setRequestHeader('Content-Type', 'application/json');
  x.onloadend = () => resolve(x.status + ' ' + x.responseText);
  x.send(JSON.stringify(body));
});
const events = (url) => new Promise((resolve) => {
  const got = [];
  const es = new EventSource(url);
  es.onmessage = (e) => { got.push(e.data); if (got.length === 2) { es.close(); resolve(got); } };
  es.onerror = () => { es.close(); resolve([...got, 'error']); };
});
const echo = (url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onopen = () => ws.send('hi');
  ws.onmessage = (e) => { resolve(String(e.data)); ws.close(); };
  ws.onclose = (e) => resolve('closed ' + e.code);
});
window.runCalls = async () => ({
  fetch: await read(fetch('http://localhost:${api}/api/items?via=fetch')),
  request: await read(fetch(new Request(new URL('http://127.0.0.1:${api}/api/items?via=request'), {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-token': 't1' }, body: '{"name":"ada"}',
  }))),
  xhr: await xhr('PUT', 'http://' + location.hostname + ':${api}/api/items?via=xhr', { name: 'bob' }),
  events: await events('http://localhost:${api}/api/events'),
  socket: await echo('ws://127.0.0.1:${socket}/ws/echo'),
});
</script></body></html>`;

/** What the page gets on the local setup, and must get through Wingman. */
const EXPECTED = {
  fetch: '200 api: GET /api/items?via=fetch',
  request: '200 api: POST /api/items?via=request t1 {"name":"ada"}',
  xhr: '200 api: PUT /api/items?via=xhr - {"name":"bob"}',
  events: ['one', 'two'],
  socket: 'socket: hi',
};

/** The agent log's target of each call. */
const TARGETS = ['/api/items?via=fetch', '/api/items?via=request', '/api/items?via=xhr', '/api/events', '/ws/echo'];

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** The API: CORS for the front end's local origin (its preflights answered), items echoed, two server-sent events. */
function api(frontOrigin: () => string) {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const cors = req.headers.origin === frontOrigin() ? { 'access-control-allow-origin': frontOrigin(), vary: 'Origin' } : {};
    if (req.method === 'OPTIONS') {
      return void res
        .writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, PUT', 'access-control-allow-headers': 'content-type, x-token' })
        .end();
    }
    if (req.url === '/api/events') {
      return void res.writeHead(200, { ...cors, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }).write('data: one\n\ndata: two\n\n');
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = parts.length > 0 ? ` ${String(req.headers['x-token'] ?? '-')} ${Buffer.concat(parts).toString()}` : '';
      res.writeHead(200, { ...cors, 'content-type': 'text/plain' }).end(`api: ${req.method} ${req.url}${body}`);
    });
  });
}

describe('a front end calling its API and socket server on their own local ports, under one link (--route)', () => {
  const servers: Server[] = [];
  let frontPort: number;
  let origin: string;
  let agent: Proc;

  beforeAll(async () => {
    const socketServer = createServer((_req, res) => void res.writeHead(404).end());
    new WebSocketServer({ server: socketServer, path: '/ws/echo' }).on('connection', (ws) => ws.on('message', (m) => ws.send(`socket: ${String(m)}`)));
    const apiServer = api(() => `http://localhost:${frontPort}`);
    const [apiPort, socketPort] = await Promise.all([listen(apiServer), listen(socketServer)]);
    const front = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(apiPort, socketPort)));
    frontPort = await listen(front);
    servers.push(apiServer, socketServer, front);
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const started = await startAgent(`http://localhost:${port}`, String(frontPort), {}, ['--route', `/api=${apiPort}`, '--route', `/ws=${socketPort}`]);
    agent = started.agent;
    origin = `http://${started.sessionId}.localhost:${port}`;
  });

  afterAll(async () => {
    await killAll();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function runCalls(target: AnyPage | AnyFrame): Promise<typeof EXPECTED> {
    await until(() => inPage(target, () => typeof (window as unknown as { runCalls?: unknown }).runCalls === 'function', undefined).catch(() => false), {
      timeoutMs: WAIT_MS,
      intervalMs: 50,
      what: "the front end's page",
    });
    return inPage(target, () => (window as unknown as { runCalls(): Promise<typeof EXPECTED> }).runCalls(), undefined);
  }

  /** The agent's log line of each call after its `from`th event (the P2P host's arrive over IPC, after the response). */
  const routedLog = (from: number) =>
    until(
      () => {
        const lines = agent.events.slice(from).filter((e) => e.event === 'request');
        const found = TARGETS.map((t) => lines.find((e) => e.target === t));
        return found.every(Boolean) ? found.map((e) => ({ target: e!.target, transport: e!.transport, mount: e!.mount })) : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 20, what: "the agent's log lines of the page's calls" },
    );

  describe.each(WEBRTC_ENGINES)('in %s', (engine) => {
    const engines = useEnginePair(engine);

    it('runs on the local setup, three origins (the reference)', async () => {
      await engines.browser.page.goto(`http://localhost:${frontPort}/`);
      expect(await runCalls(engines.browser.page)).toEqual(EXPECTED);
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)('through the shell over %s, each call reaches its route’s app and the page gets the local answers', async (_name, transport) => {
      const shell = engines.pageFor(transport);
      await shell.goto(`${origin}/`);
      const frame = await waitForApp(shell as Parameters<typeof waitForApp>[0], 'api-port');
      await waitForTransport(shell, transport);
      const logged = agent.events.length;
      expect(await runCalls(frame)).toEqual(EXPECTED);
      expect(await routedLog(logged)).toEqual(TARGETS.map((target) => ({ target, transport, mount: target.startsWith('/ws') ? '/ws' : '/api' })));
    });
  });

  describe('in WebKit (no WebRTC: the Service Worker relay)', () => {
    const env = useWebKit();

    it('gets the local answers through the shell over the relay, each call on its route', async () => {
      const page = env.webkit.page;
      await page.goto(`http://localhost:${frontPort}/`);
      const direct = await runCalls(page);
      expect(direct).toEqual(EXPECTED);

      await page.goto(`${origin}/`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      const frame = await shellAppFrame(page);
      const logged = agent.events.length;
      expect(await runCalls(frame)).toEqual(direct);
      expect(await routedLog(logged)).toEqual(TARGETS.map((target) => ({ target, transport: 'relay', mount: target.startsWith('/ws') ? '/ws' : '/api' })));
    });
  });
});
