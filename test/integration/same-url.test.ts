/**
 * The agent keeps its URL across restarts, all real processes: the tunnel
 * server restarted on the same port (its sessions gone with it) gives a
 * returning agent its session id back (and its link key: a link cookie stays
 * valid), one that lost the session gives a new URL and a new key, and two
 * agents exposing the same port keep a saved session each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { LINK_PATH, LINK_TOKEN_HEADER, splitLinkKey } from '@wingman/protocol';
import { linkTokenOf } from '../../packages/relay-server/src/agent/link-verifier';
import { send, type Reply } from '../helpers/http-client';
import { killAll, LINK_ONLY_AGENT_ENV, startAgent, startServer, type Proc } from '../helpers/processes';

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

/** The access token of a link (docs/PROTOCOL.md §Link access). */
const tokenOf = (link: string) => linkTokenOf(splitLinkKey(new URL(link).hash).key!);
const linkCookieOf = (reply: Reply) =>
  (reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('wingman_link=')) ?? 'no link cookie';

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

  it("keeps a session shared by link to its link: the session it gets back takes its key's verifier, and a viewer's link cookie stays valid", async () => {
    const serverState = tempDir('server-state');
    const first = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState });
    const { agent, url, link } = await startAgent(first.url, String(app.port), { ...LINK_ONLY_AGENT_ENV, WINGMAN_STATE_DIR: tempDir('agent-state') }, [
      '--no-p2p',
    ]);
    const host = new URL(url).host;
    const earned = await send(first.port, host, { method: 'POST', path: LINK_PATH, headers: { [LINK_TOKEN_HEADER]: tokenOf(link) } });
    const cookie = linkCookieOf(earned);
    await first.server.kill();
    const second = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState }, ['--port', String(first.port)]);
    expect(await nextReady(agent, 1)).toMatchObject({ url, link, resumed: true });
    expect((await send(second.port, host, { path: '/hello', headers: { cookie } })).body.toString()).toBe('hello GET');
    expect((await send(second.port, host, { path: '/hello' })).status).toBe(403);
  });

  it('gives a returning agent that lost its session a new URL with a new link key, which the old key does not open', async () => {
    const first = await startServer({ WINGMAN_SERVER_STATE_DIR: tempDir('server-state') });
    const { agent, url, link } = await startAgent(first.url, String(app.port), { ...LINK_ONLY_AGENT_ENV, WINGMAN_STATE_DIR: tempDir('agent-state') }, [
      '--no-p2p',
    ]);
    await first.server.kill();
    const second = await startServer({ WINGMAN_SERVER_STATE_DIR: tempDir('other-server-state') }, ['--port', String(first.port)]);
    const back = await nextReady(agent, 1);
    expect(back.url).not.toBe(url);
    expect(String(back.link).split('#')[1]).not.toBe(link.split('#')[1]);
    const host = new URL(String(back.url)).host;
    expect((await send(second.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: tokenOf(link) } })).status).toBe(403);
    expect((await send(second.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: tokenOf(String(back.link)) } })).body.toString()).toBe('hello GET');
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
