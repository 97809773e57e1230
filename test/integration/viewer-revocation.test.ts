/**
 * Revoking viewers from the agent's inspector API, through real processes on
 * loopback: the tunnel server tells viewers apart by their viewer cookie,
 * the agent's decision travels over the control channel, and the server
 * refuses the revoked viewer on every path while the agent closes its P2P
 * channel. Other viewers keep working.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, NAVIGATION_HEADERS, newViewer, untilTrue, viewerCookieOf, viewerStateOf } from '../helpers/viewer-client';

jest.setTimeout(120_000);

let app: FixtureApp;
let t: Tunnel;
let inspector: number;

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--inspect', '0'] });
  inspector = inspectorPortOf(t.agent);
});

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app.close();
  }
});

/** Resolves when the P2P viewer's connection closes; rejects after 20 s. */
function closeOf(p: ViewerProcess): Promise<void> {
  const closed = p.waitForClose(0, 20_000).then(() => undefined);
  closed.catch(() => undefined); // awaited by the test
  return closed;
}

const stateOf = (id: string) => viewerStateOf(inspector, id);

describe('viewer revocation (inspector API)', () => {
  it('lists each viewer with its address, browser and first-seen time, admitted on an open link', async () => {
    const before = Date.now();
    const a = await newViewer(t.serverPort, t.host);
    await untilTrue('the viewer in the inspector', async () => (await stateOf(a.id)) === 'admitted');
    const { json } = await inspectorApi(inspector, '/api/viewers');
    const v = json.viewers.find((x: { id: string }) => x.id === a.id);
    expect(v).toMatchObject({ id: a.id, shortId: a.id.slice(0, 8), state: 'admitted', address: '127.0.0.1' });
    expect(v.firstSeenAt).toBeGreaterThanOrEqual(before - 1_000);
    // The app never sees the viewer cookie.
    const echoed = await a.get('/headers');
    expect(echoed.status).toBe(200);
    expect(echoed.body.toString()).not.toContain('wingman_viewer');
  });

  it('refuses a revoked viewer on relayed HTTP, WebSockets and signaling, closes its P2P channel, and keeps serving another viewer', async () => {
    const a = await newViewer(t.serverPort, t.host);
    const b = await newViewer(t.serverPort, t.host);
    expect(a.id).not.toBe(b.id);
    const pa = await connectViewerProcess({ url: t.url, cookie: a.cookie, timeoutMs: 20_000 });
    const pb = await connectViewerProcess({ url: t.url, cookie: b.cookie, timeoutMs: 20_000 });
    // Why the other viewer's connection closed, if it did: the failure then says it.
    const bClosedWith = () => {
      const err = pb.closeOf(0);
      if (err === undefined) return undefined;
      return err ? `${err.code ?? 'no code'}: ${err.message ?? ''}` : 'closed without an error (its channel or peer connection closed)';
    };
    await untilTrue('both viewers in the inspector', async () => (await stateOf(a.id)) === 'admitted' && (await stateOf(b.id)) === 'admitted');
    const aClosed = closeOf(pa);

    const revoked = await inspectorApi(inspector, `/api/viewers/${a.id.slice(0, 8)}/revoke`, 'POST');
    expect(revoked.status).toBe(202);
    await aClosed;
    await untilTrue('the revocation in the inspector', async () => (await stateOf(a.id)) === 'refused');

    const page = await a.get('/hello');
    expect(page.status).toBe(403);
    expect(JSON.parse(page.body.toString())).toMatchObject({ error: 'ERR_VIEWER_REFUSED', state: 'refused' });
    const html = await a.get('/hello', NAVIGATION_HEADERS);
    expect(html.status).toBe(403);
    expect(html.body.toString()).toContain('ERR_VIEWER_REFUSED');
    expect(await a.upgrade('/ws')).toBe(403);
    expect(await a.upgrade('/__wingman/signal')).toBe(403);

    expect((await b.get('/hello')).status).toBe(200);
    expect(await b.upgrade('/ws')).toBe(101);
    expect(bClosedWith()).toBeUndefined();
    expect((await pb.state()).connection.isClosed).toBe(false);
  });

  it("closes a revoked viewer's relayed WebSocket", async () => {
    const a = await newViewer(t.serverPort, t.host);
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/echo`, { headers: { host: t.host, cookie: a.cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the WebSocket stayed open')), 10_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect((await inspectorApi(inspector, `/api/viewers/${a.id}/revoke`, 'POST')).status).toBe(202);
    await closed;
  });

  it('revoke-all refuses every current viewer; a new viewer on an open link comes in as a new one', async () => {
    const a = await newViewer(t.serverPort, t.host);
    const b = await newViewer(t.serverPort, t.host);
    const pb = await connectViewerProcess({ url: t.url, cookie: b.cookie, timeoutMs: 20_000 });
    const bClosed = closeOf(pb);
    await untilTrue('both viewers in the inspector', async () => (await stateOf(a.id)) === 'admitted' && (await stateOf(b.id)) === 'admitted');

    expect((await inspectorApi(inspector, '/api/viewers/revoke-all', 'POST')).status).toBe(202);
    await bClosed;
    await untilTrue('both revoked', async () => (await stateOf(a.id)) === 'refused' && (await stateOf(b.id)) === 'refused');
    expect((await a.get('/hello')).status).toBe(403);
    expect((await b.get('/hello')).status).toBe(403);

    const c = await newViewer(t.serverPort, t.host);
    expect(c.id).not.toBe(a.id);
    expect((await c.get('/hello')).status).toBe(200);
  });

  it('tells a cookie-less client apart by address and User-Agent, so curl can be revoked too', async () => {
    const curl = { 'user-agent': 'curl/8.5.0' };
    const first = await send(t.serverPort, t.host, { path: '/hello', headers: curl });
    expect(first.status).toBe(200);
    const id = viewerCookieOf(first)!.slice('wingman_viewer='.length).split('.')[0]!;
    expect((await send(t.serverPort, t.host, { path: '/hello', headers: { 'user-agent': 'other/1' } })).status).toBe(200);
    await untilTrue('curl in the inspector', async () => (await stateOf(id)) === 'admitted');
    expect((await inspectorApi(inspector, `/api/viewers/${id}/revoke`, 'POST')).status).toBe(202);
    await untilTrue('curl revoked', async () => (await send(t.serverPort, t.host, { path: '/hello', headers: curl })).status === 403);
    expect((await send(t.serverPort, t.host, { path: '/hello', headers: { 'user-agent': 'other/1' } })).status).toBe(200);
  });

  it('answers unknown and too-short viewer ids with coded errors', async () => {
    expect(await inspectorApi(inspector, '/api/viewers/0123456789abcdef/revoke', 'POST')).toMatchObject({
      status: 404,
      json: { error: { code: 'ERR_NOT_FOUND' } },
    });
    expect(await inspectorApi(inspector, '/api/viewers/0123/admit', 'POST')).toMatchObject({ status: 400, json: { error: { code: 'ERR_INVALID_QUERY' } } });
  });
});
