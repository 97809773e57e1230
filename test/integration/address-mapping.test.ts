/**
 * The response side of the one address mapping (forward/address-map.ts),
 * through real processes: a local app that answers as `localhost:<port>`
 * sets its session cookie for `Domain=localhost` and allows CORS only for
 * its own origin, as many dev setups do. Through Wingman the cookie arrives
 * host-only on the session (over P2P it came naming localhost; on a real
 * domain the tunnel server drops a cookie for another one) and
 * Access-Control-Allow-Origin names the viewer's origin (it was absent),
 * over the relay and over P2P (the Node viewer in a child process).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(90_000);

let app: Server;
let port: number;
let t: Tunnel;

beforeAll(async () => {
  app = createServer((req, res) => {
    // The app's allow-list: its own origin, as it is configured for local development.
    const allowed = req.headers.origin === `http://localhost:${port}`;
    res.writeHead(200, {
      'set-cookie': 'sid=s3cret; Domain=localhost; Path=/; HttpOnly',
      ...(allowed ? { 'access-control-allow-origin': req.headers.origin, vary: 'Origin' } : {}),
      'content-type': 'text/plain',
    });
    res.end('ok');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  port = (app.address() as AddressInfo).port;
});

afterAll(async () => {
  app?.closeAllConnections();
  await new Promise((resolve) => app?.close(resolve));
});

beforeEach(async () => {
  t = await startTunnel(String(port));
});

afterEach(async () => {
  await closeViewerProcesses();
  await killAll();
});

describe("the app's own address in its response, as the viewer receives it", () => {
  it('over the relay: a Domain=localhost cookie becomes host-only on the session, and CORS allows the viewer’s origin', async () => {
    const r = await send(t.serverPort, t.host, { method: 'POST', path: '/login', headers: { origin: `http://${t.host}` } });
    // The tunnel server adds its own viewer cookie (wingman_viewer) beside the app's.
    expect(r.headers['set-cookie']?.filter((c) => !c.startsWith('wingman_viewer='))).toEqual(['sid=s3cret; Path=/; HttpOnly']);
    expect(r.headers['access-control-allow-origin']).toBe(`http://${t.host}`);
  });

  it('over P2P, the same', async () => {
    const viewer = await connectViewerProcess({ url: t.link, timeoutMs: 20_000 });
    const r = await viewer.request({
      method: 'POST',
      target: '/login',
      headers: [
        ['host', t.host],
        ['origin', `http://${t.host}`],
      ],
    });
    expect(r.header('x-wingman-transport')).toBe('p2p');
    expect(r.headers.filter(([n]) => n === 'set-cookie')).toEqual([['set-cookie', 'sid=s3cret; Path=/; HttpOnly']]);
    expect(r.header('access-control-allow-origin')).toBe(`http://${t.host}`);
  });
});
