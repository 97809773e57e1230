/**
 * `wingman http --approve`, through real processes on loopback: every new
 * viewer waits (a waiting page for browsers, 403 JSON otherwise, no
 * signaling and so no P2P) until the developer admits it through the
 * inspector API; a refused viewer gets 403 on every path.
 */
import { createServer } from 'node:net';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, LINK_ONLY_AGENT_ENV, startAgent, startTunnel, type Tunnel } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, NAVIGATION_HEADERS, newViewer, untilTrue, viewerCookieOf, viewerStateOf } from '../helpers/viewer-client';

jest.setTimeout(120_000);

let app: FixtureApp;
let t: Tunnel;
let inspector: number;

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--inspect', '0', '--approve'] });
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

const stateOf = (id: string) => viewerStateOf(inspector, id);

describe('viewer approval (--approve)', () => {
  it('holds a new viewer on a waiting page until the developer admits it, then serves it over the relay and P2P', async () => {
    const a = await newViewer(t.serverPort, t.host);
    const page = await a.get('/hello', { ...NAVIGATION_HEADERS, 'user-agent': 'Reviewer/1.0' });
    expect(page.status).toBe(403);
    const html = page.body.toString();
    expect(html).toContain('Waiting for the developer to let you in');
    expect(html).toContain('127.0.0.1');
    expect(html).toContain(a.id.slice(0, 8));
    expect(page.headers['content-type']).toMatch(/^text\/html/);

    const json = await a.get('/hello');
    expect(json.status).toBe(403);
    expect(JSON.parse(json.body.toString())).toMatchObject({ error: 'ERR_VIEWER_WAITING', viewer: a.id, state: 'waiting' });
    expect(await a.upgrade('/ws')).toBe(403);
    expect(await a.upgrade('/__wingman/signal')).toBe(403);
    await expect(connectViewerProcess({ url: t.url, cookie: a.cookie, timeoutMs: 5_000 })).rejects.toThrow();
    expect(JSON.parse((await a.get('/__wingman/viewer')).body.toString())).toEqual({ id: a.id, state: 'waiting' });
    expect(await stateOf(a.id)).toBe('waiting');

    expect((await inspectorApi(inspector, `/api/viewers/${a.id}/admit`, 'POST')).status).toBe(202);
    await untilTrue('the admission', async () => (await a.get('/__wingman/viewer')).body.toString().includes('"admitted"'));
    expect((await a.get('/hello')).status).toBe(200);
    expect(await a.upgrade('/ws')).toBe(101);
    const p = await connectViewerProcess({ url: t.url, cookie: a.cookie, timeoutMs: 20_000 });
    expect((await p.state()).connection.isClosed).toBe(false);
    // The agent's log names the P2P viewer by the same id as the relay, the cookie and the inspector.
    expect(await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected', 10_000)).toMatchObject({ viewer: a.id });
  });

  it('answers a refused viewer 403 on relayed HTTP, WebSockets, signaling and the shell, while an admitted one is served', async () => {
    const a = await newViewer(t.serverPort, t.host);
    const b = await newViewer(t.serverPort, t.host);
    await untilTrue('both waiting', async () => (await stateOf(a.id)) === 'waiting' && (await stateOf(b.id)) === 'waiting');
    expect((await inspectorApi(inspector, `/api/viewers/${a.id}/refuse`, 'POST')).status).toBe(202);
    expect((await inspectorApi(inspector, `/api/viewers/${b.id}/admit`, 'POST')).status).toBe(202);
    await untilTrue('the decisions', async () => (await stateOf(a.id)) === 'refused' && (await stateOf(b.id)) === 'admitted');

    const refusedJson = await a.get('/hello');
    expect(refusedJson.status).toBe(403);
    expect(JSON.parse(refusedJson.body.toString())).toMatchObject({ error: 'ERR_VIEWER_REFUSED' });
    const refusedPage = await a.get('/', NAVIGATION_HEADERS);
    expect(refusedPage.status).toBe(403);
    expect(refusedPage.body.toString()).toContain('ERR_VIEWER_REFUSED');
    expect((await a.get('/__wingman/sw.js')).status).toBe(403);
    expect(await a.upgrade('/ws')).toBe(403);
    expect(await a.upgrade('/__wingman/signal')).toBe(403);

    expect((await b.get('/hello')).status).toBe(200);
  });

  it('keeps an admitted viewer admitted through a flood of new viewers from one address, whose waiting viewers stay few', async () => {
    const admitted = await newViewer(t.serverPort, t.host);
    expect((await inspectorApi(inspector, `/api/viewers/${admitted.id}/admit`, 'POST')).status).toBe(202);
    await untilTrue('the admission', async () => (await admitted.get('/hello')).status === 200);

    // 1 010 navigations without a cookie from one address: each is a new viewer, 20 at a time.
    const FLOOD = 1_010;
    const statuses: number[] = [];
    for (let i = 0; i < FLOOD; i += 20) {
      const batch = Array.from({ length: Math.min(20, FLOOD - i) }, () =>
        send(t.serverPort, t.host, { path: '/', headers: { ...NAVIGATION_HEADERS, 'user-agent': 'Flood/1.0' }, localAddress: '127.0.0.2' }),
      );
      for (const r of await Promise.all(batch)) statuses.push(r.status);
    }
    expect(statuses.filter((s) => s === 403)).toHaveLength(FLOOD);

    expect((await admitted.get('/hello')).status).toBe(200);
    const reviewer = await send(t.serverPort, t.host, {
      path: '/',
      headers: { ...NAVIGATION_HEADERS, 'user-agent': 'Reviewer/2.0' },
      localAddress: '127.0.0.3',
    });
    const reviewerId = viewerCookieOf(reviewer)!.slice('wingman_viewer='.length).split('.')[0]!;
    // The developer's list: the flooding address's waiting viewers capped, the reviewer listed with its address and browser.
    let waiting: Array<{ id: string; address: string; userAgent: string }> = [];
    await untilTrue('the waiting list to settle', async () => {
      waiting = (await inspectorApi(inspector, '/api/viewers')).json.viewers.filter((v: { state: string }) => v.state === 'waiting');
      return waiting.some((v) => v.id === reviewerId) && waiting.filter((v) => v.address === '127.0.0.2').length <= 4;
    });
    expect(waiting.filter((v) => v.address === '127.0.0.2')).toHaveLength(4);
    expect(waiting.find((v) => v.id === reviewerId)).toMatchObject({ address: '127.0.0.3', userAgent: 'Reviewer/2.0' });
    expect(await stateOf(admitted.id)).toBe('admitted');
  });

  it('says approve mode in the --json ready line, and emits a viewer event with the same id when a viewer starts waiting, is admitted or refused', async () => {
    expect(t.agent.events.find((e) => e.event === 'ready')).toMatchObject({ viewers: 'approve' });
    const a = await newViewer(t.serverPort, t.host);
    const b = await newViewer(t.serverPort, t.host);
    const eventOf = (id: string, state: string) => t.agent.waitFor((e) => e.event === 'viewer' && e.id === id && e.state === state, 10_000);
    expect(await eventOf(a.id, 'waiting')).toEqual({ event: 'viewer', id: a.id, state: 'waiting', address: '127.0.0.1', userAgent: '' });
    await eventOf(b.id, 'waiting');
    expect((await inspectorApi(inspector, `/api/viewers/${a.id}/admit`, 'POST')).status).toBe(202);
    expect((await inspectorApi(inspector, `/api/viewers/${b.id}/refuse`, 'POST')).status).toBe(202);
    await eventOf(a.id, 'admitted');
    await eventOf(b.id, 'refused');
    // The inspector lists them under the same ids.
    expect(await stateOf(a.id)).toBe('admitted');
    expect(await stateOf(b.id)).toBe('refused');
  });

  it('holds a cookie-less client until it is admitted from the inspector', async () => {
    const curl = { 'user-agent': 'curl/8.5.0' };
    const first = await send(t.serverPort, t.host, { path: '/hello', headers: curl });
    expect(first.status).toBe(403);
    expect(JSON.parse(first.body.toString())).toMatchObject({ error: 'ERR_VIEWER_WAITING' });
    const id = viewerCookieOf(first)!.slice('wingman_viewer='.length).split('.')[0]!;
    expect((await inspectorApi(inspector, `/api/viewers/${id.slice(0, 8)}/admit`, 'POST')).status).toBe(202);
    await untilTrue('curl admitted', async () => (await send(t.serverPort, t.host, { path: '/hello', headers: curl })).status === 200);
  });

  it('warns at start that nothing can admit viewers when the inspector is off and there is no terminal', async () => {
    const { agent } = await startAgent(`http://127.0.0.1:${t.serverPort}`, String(app.port), {}, ['--approve', '--inspect', 'false', '--new-session']);
    // With --json, warnings are JSON lines on stderr; this one comes before the ready line.
    const warning = agent
      .stderr()
      .split('\n')
      .find((l) => l.includes('WARN_APPROVE_UNREACHABLE'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({
      event: 'warning',
      code: 'WARN_APPROVE_UNREACHABLE',
      message: expect.stringContaining('Drop --inspect false'),
    });
  });

  it('says why nothing can admit viewers when the inspector could not start, without naming a flag that was never passed', async () => {
    // The last port, taken: the inspector has no next one to move to.
    const port = 65535;
    const taken = createServer();
    await new Promise<void>((resolve, reject) => taken.once('error', reject).listen(port, '127.0.0.1', resolve));
    try {
      // The agent's default (link only): a public session's warning comes after the ready line, which may or may not be read by then.
      const { agent } = await startAgent(`http://127.0.0.1:${t.serverPort}`, String(app.port), LINK_ONLY_AGENT_ENV, [
        '--approve',
        '--inspect',
        String(port),
        '--new-session',
      ]);
      const warnings = agent
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { code?: string; message?: string });
      expect(warnings.map((w) => w.code)).toEqual(['WARN_INSPECTOR_UNAVAILABLE', 'WARN_APPROVE_UNREACHABLE']);
      expect(warnings[1]!.message).toContain('Fix what kept the inspector off (the warning above)');
      expect(warnings[1]!.message).not.toContain('--inspect false');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
