/**
 * The agent keeps its URL across restarts, all real processes: the tunnel
 * server restarted on the same port (its sessions gone with it) gives a
 * returning agent its session id back, and two agents exposing the same port
 * keep a saved session each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, startAgent, startServer, type Proc } from '../helpers/processes';

jest.setTimeout(90_000);

let app: FixtureApp;
let dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `wingman-${name}-`));
  dirs.push(d);
  return d;
};

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** The next `ready` the agent prints after the `count` it printed so far. */
const nextReady = (agent: Proc, count: number, timeoutMs = 45_000) =>
  agent.waitFor((e) => e.event === 'ready' && agent.events.filter((x) => x.event === 'ready').indexOf(e) >= count, timeoutMs);

describe('a tunnel server restarted on the same port', () => {
  it.each([['SIGTERM'], ['SIGKILL']] as const)(
    'gives the reconnecting agent its URL back, and viewers reach the app there (server stopped with %s)',
    async (signal) => {
      const serverState = tempDir('server-state');
      const first = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState });
      const { agent, url, sessionId } = await startAgent(first.url, String(app.port), { WINGMAN_STATE_DIR: tempDir('agent-state') }, ['--no-p2p']);
      await first.server.kill(signal);
      const second = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState }, ['--port', String(first.port)]);
      const back = await nextReady(agent, 1);
      expect(back).toMatchObject({ url, sessionId, resumed: true });
      const r = await send(second.port, new URL(url).host, { path: '/hello' });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello GET');
    },
  );

  it("keeps a viewer's access cookie to a password-protected session valid: no second password prompt after the restart", async () => {
    const serverState = tempDir('server-state');
    const first = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState });
    const { agent, url } = await startAgent(first.url, String(app.port), { WINGMAN_STATE_DIR: tempDir('agent-state') }, [
      '--no-p2p',
      '--password',
      'pw-restart',
    ]);
    const host = new URL(url).host;
    const earned = await send(first.port, host, { path: '/hello', headers: { authorization: `Basic ${Buffer.from(':pw-restart').toString('base64')}` } });
    const cookie = ([] as string[])
      .concat(earned.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('wingman_access='))
      ?.split(';')[0];
    expect(cookie).toMatch(/^wingman_access=/);
    await first.server.kill();
    const second = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState }, ['--port', String(first.port)]);
    expect(await nextReady(agent, 1)).toMatchObject({ url, resumed: true, access: 'password' });
    const r = await send(second.port, host, { path: '/hello', headers: { cookie: cookie! } });
    expect(r.status).toBe(200);
    expect((await send(second.port, host, { path: '/hello', headers: { cookie: `wingman_access=${'A'.repeat(43)}` } })).status).toBe(401);
  });

  it('gives a returning agent a new URL when the server lost its session key (the claim cannot be verified)', async () => {
    const first = await startServer({ WINGMAN_SERVER_STATE_DIR: tempDir('server-state') });
    const { agent, url } = await startAgent(first.url, String(app.port), { WINGMAN_STATE_DIR: tempDir('agent-state') }, ['--no-p2p']);
    await first.server.kill();
    await startServer({ WINGMAN_SERVER_STATE_DIR: tempDir('other-server-state') }, ['--port', String(first.port)]);
    const back = await nextReady(agent, 1);
    expect(back.resumed).toBe(false);
    expect(back.url).not.toBe(url);
  });
});

describe('two agents exposing the same port through the same server', () => {
  it('get a session each, and each one restarted gets its own URL back', async () => {
    const { url: serverUrl, port } = await startServer({ WINGMAN_SERVER_STATE_DIR: tempDir('server-state') });
    const env = { WINGMAN_STATE_DIR: tempDir('agent-state') };
    const one = await startAgent(serverUrl, String(app.port), env, ['--no-p2p']);
    const two = await startAgent(serverUrl, String(app.port), env, ['--no-p2p']);
    expect(two.url).not.toBe(one.url);
    for (const { url } of [one, two]) expect((await send(port, new URL(url).host, { path: '/hello' })).body.toString()).toBe('hello GET');

    // Killed without a chance to clean up: its slot's lock names a dead process.
    await one.agent.kill('SIGKILL');
    const oneAgain = await startAgent(serverUrl, String(app.port), env, ['--no-p2p']);
    expect(oneAgain.url).toBe(one.url);
    await two.agent.kill();
    const twoAgain = await startAgent(serverUrl, String(app.port), env, ['--no-p2p']);
    expect(twoAgain.url).toBe(two.url);
    for (const { url } of [oneAgain, twoAgain]) expect((await send(port, new URL(url).host, { path: '/hello' })).body.toString()).toBe('hello GET');
  });
});
