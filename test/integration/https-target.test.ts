/**
 * An https local target (`wingman http https://localhost:<port>`), as a dev
 * server with a self-signed or mkcert certificate runs: a real Node https
 * server whose certificate a throwaway CA signed (scripts/lib/test-ca.cjs),
 * the tunnel server and the agent as processes, HTTP and a WebSocket over
 * the relay and over P2P (the Node viewer in a child process). The
 * certificate is verified unless the developer says otherwise: with the CA
 * given (`--target-ca`) the app answers; without it the viewer gets a page
 * that says why; `--target-insecure` accepts it (on a loopback target only:
 * target-option.test.ts), and the agent says so when it starts.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { createTestCa, type TestCa } from '../helpers/test-ca';

jest.setTimeout(90_000);

let ca: TestCa;
let app: Server;
let appPort: number;

/** What the app saw of each request: its scheme was TLS by construction, so Host and Origin say whether the agent's addresses agree. */
function answer(req: { headers: Record<string, string | string[] | undefined> }): string {
  return JSON.stringify({ host: req.headers.host, origin: req.headers.origin ?? null });
}

beforeAll(async () => {
  ca = createTestCa({ name: 'wingman https target test CA' });
  const { certFile, keyFile } = ca.issue('localhost', { serialHex: '0a11', altNames: ['DNS:localhost', 'IP:127.0.0.1'] });
  app = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer(req));
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws, req) => ws.on('message', (data) => ws.send(`${answer(req)} ${String(data)}`)));
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appPort = (app.address() as AddressInfo).port;
});

afterAll(async () => {
  app?.closeAllConnections();
  await new Promise((resolve) => app?.close(resolve));
  ca?.remove();
});

afterEach(async () => {
  await closeViewerProcesses();
  await killAll();
});

const appOrigin = () => `https://localhost:${appPort}`;

/** A WebSocket through the tunnel server's relay to the session: the first answer to "hi". */
async function relayEcho(t: Tunnel): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/ws`, { headers: { host: t.host, origin: `http://${t.host}` } });
  await once(ws, 'open');
  ws.send('hi');
  const [data] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  return data.toString();
}

describe('an https local target', () => {
  it('is verified against --target-ca and served over the relay and P2P, WebSockets included, with the app’s own https origin', async () => {
    const t = await startTunnel(appOrigin(), { agentArgs: ['--target-ca', ca.caFile] });
    expect(t.agent.events.find((e) => e.event === 'ready')?.target).toBe(appOrigin());

    const r = await send(t.serverPort, t.host, { method: 'POST', path: '/form', headers: { origin: `http://${t.host}` } });
    expect({ status: r.status, transport: r.headers['x-wingman-transport'] }).toEqual({ status: 200, transport: 'relay' });
    // Host and Origin name the app as it is reached: https, its own host:port (the one address, forward/address-map.ts).
    expect(JSON.parse(r.body.toString())).toEqual({ host: `localhost:${appPort}`, origin: appOrigin() });
    expect(await relayEcho(t)).toBe(`${JSON.stringify({ host: `localhost:${appPort}`, origin: appOrigin() })} hi`);

    const viewer = await connectViewerProcess({ url: t.link, timeoutMs: 20_000 });
    const p2p = await viewer.request({ method: 'GET', target: '/page', headers: [['host', t.host]] });
    expect({ status: p2p.status, transport: p2p.header('x-wingman-transport') }).toEqual({ status: 200, transport: 'p2p' });
    expect(JSON.parse(p2p.body.toString())).toEqual({ host: `localhost:${appPort}`, origin: null });
    const ws = await viewer.openStream('ws', {
      method: 'GET',
      target: '/ws',
      headers: [
        ['host', t.host],
        ['origin', `http://${t.host}`],
      ],
    });
    expect((await ws.response()).status).toBe(101);
    await ws.sendMessage('hi');
    expect((await ws.nextMessage()).data.toString()).toBe(`${JSON.stringify({ host: `localhost:${appPort}`, origin: appOrigin() })} hi`);
  });

  it('refuses a certificate it cannot verify, and the viewer’s page says what to give the agent', async () => {
    const t = await startTunnel(appOrigin());
    const r = await send(t.serverPort, t.host, { method: 'GET', path: '/' });
    expect(r.status).toBe(502);
    expect(r.body.toString()).toContain('certificate is not trusted');
    expect(r.body.toString()).toContain('--target-ca');
    // The log line leaves after the response (after-send.ts).
    expect(await t.agent.waitForEvent('request')).toMatchObject({ status: 502, error: 'ERR_UPSTREAM_ERROR' });
  });

  it('accepts the certificate unverified with --target-insecure, and says so when it starts', async () => {
    const t = await startTunnel(appOrigin(), { agentArgs: ['--target-insecure'] });
    const r = await send(t.serverPort, t.host, { method: 'GET', path: '/' });
    expect(r.status).toBe(200);
    // Warnings go to stderr, as JSON lines with --json.
    const warning = await t.agent.waitForLine(/"code":"WARN_TARGET_TLS_UNVERIFIED"/, { stream: 'stderr' });
    expect(String(JSON.parse(warning).message)).toContain(appOrigin());
  });
});
