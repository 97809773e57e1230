/**
 * A front end and its API under one link (`wingman http <front> --route
 * /api=<api>`): two real local servers on their own ports, the tunnel server
 * and the agent as processes. Requests under /api (HTTP and a WebSocket)
 * reach the API, every other path the front end, over the relay and over
 * P2P (the Node viewer in a child process); each app gets its own Host and
 * Origin (the one address mapping), its redirects come back as the
 * session's, and the request log names the mount.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(90_000);

/** What an app saw: which app it is, and the request as it arrived. */
const seen = (name: string, req: IncomingMessage) => ({ app: name, path: req.url, host: req.headers.host, origin: req.headers.origin ?? null });

/** A local app that answers every request with what it saw, redirects /…/login to its own absolute URL, and echoes WebSocket messages. */
async function startApp(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/login')) {
      res.writeHead(302, { location: `http://${req.headers.host}${req.url}/done` });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(seen(name, req)));
  });
  new WebSocketServer({ server }).on('connection', (ws, req) => ws.on('message', (m) => ws.send(JSON.stringify({ ...seen(name, req), message: String(m) }))));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

let front: { server: Server; port: number };
let api: { server: Server; port: number };
let t: Tunnel;

beforeAll(async () => {
  front = await startApp('front');
  api = await startApp('api');
});

afterAll(async () => {
  for (const s of [front?.server, api?.server]) {
    s?.closeAllConnections();
    await new Promise((resolve) => s?.close(resolve));
  }
});

beforeEach(async () => {
  t = await startTunnel(String(front.port), { agentArgs: ['--route', `/api=${api.port}`] });
});

afterEach(async () => {
  await closeViewerProcesses();
  await killAll();
});

const json = (body: Buffer) => JSON.parse(body.toString()) as Record<string, unknown>;

describe('a front end and its API under one link', () => {
  it('sends /api and below to the API and everything else to the front end, over the relay, each with its own Host and Origin', async () => {
    const ready = t.agent.events.find((e) => e.event === 'ready');
    expect(ready?.routes).toEqual({ '/api': `http://localhost:${api.port}` });
    const sessionOrigin = `http://${t.host}`;
    const get = async (path: string, headers: Record<string, string> = {}) => json((await send(t.serverPort, t.host, { path, headers })).body);

    expect(await get('/')).toEqual({ app: 'front', path: '/', host: `localhost:${front.port}`, origin: null });
    expect(await get('/apix')).toMatchObject({ app: 'front', path: '/apix' });
    expect(await get('/api')).toMatchObject({ app: 'api', path: '/api' });
    expect(await get('/api/users?page=2', { origin: sessionOrigin })).toEqual({
      app: 'api',
      path: '/api/users?page=2',
      host: `localhost:${api.port}`,
      origin: `http://localhost:${api.port}`,
    });
    const redirect = await send(t.serverPort, t.host, { path: '/api/login' });
    expect({ status: redirect.status, location: redirect.headers.location }).toEqual({ status: 302, location: `${sessionOrigin}/api/login/done` });

    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/api/socket`, { headers: { host: t.host, origin: sessionOrigin } });
    await once(ws, 'open');
    ws.send('hi');
    const [data] = (await once(ws, 'message')) as [Buffer];
    ws.close();
    expect(json(data)).toEqual({ app: 'api', path: '/api/socket', host: `localhost:${api.port}`, origin: `http://localhost:${api.port}`, message: 'hi' });

    // The request log names the mount of each routed request, and only of those.
    const logged = await t.agent.waitFor((e) => e.event === 'request' && e.target === '/api/socket');
    expect(logged.mount).toBe('/api');
    expect(t.agent.events.find((e) => e.event === 'request' && e.target === '/')?.mount).toBeUndefined();
  });

  it('routes the same way over P2P, WebSockets included', async () => {
    const viewer = await connectViewerProcess({ url: t.link, timeoutMs: 20_000 });
    const fromFront = await viewer.request({ method: 'GET', target: '/index.html', headers: [['host', t.host]] });
    expect({ transport: fromFront.header('x-wingman-transport'), ...json(fromFront.body) }).toMatchObject({ transport: 'p2p', app: 'front' });
    const fromApi = await viewer.request({ method: 'GET', target: '/api/users', headers: [['host', t.host]] });
    expect({ transport: fromApi.header('x-wingman-transport'), ...json(fromApi.body) }).toEqual({
      transport: 'p2p',
      app: 'api',
      path: '/api/users',
      host: `localhost:${api.port}`,
      origin: null,
    });
    const ws = await viewer.openStream('ws', { method: 'GET', target: '/api/socket', headers: [['host', t.host]] });
    expect((await ws.response()).status).toBe(101);
    await ws.sendMessage('hi');
    expect(json((await ws.nextMessage()).data)).toMatchObject({ app: 'api', path: '/api/socket', message: 'hi' });
  });
});
