/**
 * SHELL_PATH, the shell for the Service Worker's own copy, real processes:
 * tunnel server, agent, fixture app. Served exactly when a browser's
 * navigation would get the shell (a P2P session with its agent), refused
 * otherwise, so that the SW drops a copy the server no longer stands behind.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send, type Reply } from '../helpers/http-client';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(60_000);

const SHELL_PATH = '/__wingman/shell';

let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

const get = (t: Tunnel, method = 'GET'): Promise<Reply> => send(t.serverPort, t.host, { path: SHELL_PATH, method });

it('serves the shell, marked, uncached, to a P2P session; the app sees nothing', async () => {
  const t = await startTunnel(String(app.port));
  const r = await get(t);
  expect(r.status).toBe(200);
  expect(r.headers['x-wingman-shell']).toBe('1');
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.body.toString()).toContain('id="wingman-config"');
  expect(r.body.toString()).toContain(`"sessionId":"${t.sessionId}"`);
  expect(app.requested).toEqual([]);
  expect((await get(t, 'POST')).status).toBe(405);
});

it('refuses it with 404 ERR_NOT_FOUND to a session without P2P, and once the agent is gone', async () => {
  const relayOnly = await startTunnel(String(app.port), { agentArgs: ['--no-p2p'] });
  const refused = await get(relayOnly);
  expect(refused.status).toBe(404);
  expect(JSON.parse(refused.body.toString())).toMatchObject({ error: 'ERR_NOT_FOUND' });

  const t = await startTunnel(String(app.port));
  expect((await get(t)).status).toBe(200);
  await t.agent.kill();
  const gone = await get(t);
  expect(gone.status).toBe(404);
  expect(gone.headers['x-wingman-shell']).toBeUndefined();
});
