/**
 * Stable names through the real tunnel server and agents (built bins,
 * loopback): `wingman http --name shop` serves the app at shop.<domain>, the
 * name belongs to the agent token that took it (another token is refused,
 * with the reason), a token holds one name, and the name outlives the
 * server: after a restart on the same state directory the agent gets the
 * same link (its key included), and the TLS permission check says yes for it before the agent
 * is back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { AGENT_BIN, killAll, spawnedBy, startAgent, startProcess, startServer, type Proc } from '../helpers/processes';
import { freePort } from '../helpers/redis';

jest.setTimeout(90_000);

const TOKEN_A = 'token-of-alice-0001';
const TOKEN_B = 'token-of-bob-000002';
/** A refused agent exits at once; generous for a loaded machine. */
const EXIT_TIMEOUT_MS = 20_000;

let app: FixtureApp;
let stateDir: string;

/** Where a test's processes run: the fixture app they serve, and the directory their state is kept in. */
interface Place {
  app: FixtureApp;
  stateDir: string;
}
/** The current test's place. */
const here = (): Place => ({ app, stateDir });

/**
 * A second agent of the token serving a name is refused only after its busy retries (about 15 s): the test that waits
 * for that runs from beforeAll on, beside the others, in a place and on a server of its own; its test awaits it.
 */
let beside: Place | undefined;
const besideOthers = new Set<Proc>();
let nameRefused: Promise<void>;

beforeAll(async () => {
  beside = { app: await startFixtureApp(), stateDir: mkdtempSync(join(tmpdir(), 'wingman-stable-names-')) };
  nameRefused = spawnedBy(besideOthers, () => refusesTheName(beside!));
  nameRefused.catch(() => undefined);
});

afterAll(async () => {
  await killAll();
  await beside?.app.close();
  if (beside) rmSync(beside.stateDir, { recursive: true, force: true });
});

beforeEach(async () => {
  app = await startFixtureApp();
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-stable-names-'));
});

afterEach(async () => {
  await killAll([...besideOthers]);
  await app.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A server with both tokens on `port`, keeping its state (the session key, the names) in the place's directory. */
const server = (port: number, env: Record<string, string> = {}, at = here()) =>
  startServer({ WINGMAN_TOKENS: `${TOKEN_A},${TOKEN_B}`, WINGMAN_SERVER_STATE_DIR: join(at.stateDir, 'server'), ...env }, ['--port', String(port)]);

/** `wingman http --json` with a token and extra flags, not waiting for anything. */
const agentProc = (serverUrl: string, token: string, args: string[], at = here()): Proc =>
  startProcess(AGENT_BIN, ['http', String(at.app.port), '--server', serverUrl, '--json', '--inspect', 'false', '--token', token, ...args], {
    WINGMAN_STATE_DIR: join(at.stateDir, `agent-${token}`),
  });

/** An agent the server refuses: its fatal event and exit code. */
async function refused(serverUrl: string, token: string, args: string[], at = here()): Promise<{ code: string; message: string; exit: number | null }> {
  const proc = agentProc(serverUrl, token, args, at);
  const fatal = await proc.waitForEvent('fatal', EXIT_TIMEOUT_MS);
  const { code } = await proc.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS });
  return { code: String(fatal.code), message: String(fatal.message), exit: code };
}

const tlsAsk = async (port: number, domain: string) => {
  const r = await send(port, `localhost:${port}`, { path: `/__wingman/tls-ask?domain=${domain}` });
  return { status: r.status, body: JSON.parse(r.body.toString()) as unknown };
};

describe('wingman http --name', () => {
  it('serves the app at <name>.<domain>, says the name in --json, and the TLS permission check allows that host', async () => {
    const port = await freePort();
    const { url } = await server(port);
    const shop = await startAgent(url, String(app.port), { WINGMAN_STATE_DIR: join(stateDir, 'agent') }, ['--token', TOKEN_A, '--name', 'shop']);
    expect(shop.url).toBe(`http://shop.localhost:${port}/`);
    expect(shop.agent.events.find((e) => e.event === 'ready')).toMatchObject({ sessionId: 'shop', name: 'shop', resumed: false });
    const page = await send(port, `shop.localhost:${port}`, { path: '/hello' });
    expect({ status: page.status, body: page.body.toString() }).toEqual({ status: 200, body: 'hello GET' });
    expect(await tlsAsk(port, 'shop.localhost')).toEqual({ status: 200, body: { ok: true, reason: 'session' } });
    expect((await tlsAsk(port, 'cart.localhost')).status).toBe(404);
  });

  it('keeps the name across a server restart: the TLS check allows it with no agent, another token is still refused, and the agent gets the same link, key included', async () => {
    const port = await freePort();
    const first = await server(port);
    const shop = await startAgent(first.url, String(app.port), { WINGMAN_STATE_DIR: join(stateDir, 'agent') }, ['--token', TOKEN_A, '--name', 'shop']);
    await shop.agent.kill('SIGKILL');
    await first.server.kill();
    // Only a digest of the token is kept.
    const file = readFileSync(join(stateDir, 'server', 'session-names.json'), 'utf8');
    expect(file).toContain('"shop"');
    expect(file).not.toContain(TOKEN_A);

    const again = await server(port);
    expect(await tlsAsk(port, 'shop.localhost')).toEqual({ status: 200, body: { ok: true, reason: 'name' } });
    expect(await refused(again.url, TOKEN_B, ['--name', 'shop'])).toMatchObject({ code: 'ERR_NAME_TAKEN', exit: 1 });
    const back = await startAgent(again.url, String(app.port), { WINGMAN_STATE_DIR: join(stateDir, 'agent') }, ['--token', TOKEN_A, '--name', 'shop']);
    expect(back.url).toBe(shop.url);
    // The whole link, #k= included: a named link shared yesterday stays verified today.
    expect(shop.link).toMatch(/#k=[A-Za-z0-9_-]{22}$/);
    expect(back.link).toBe(shop.link);
    expect((await send(port, `shop.localhost:${port}`, { path: '/hello' })).status).toBe(200);
  });

  it('gives a token one name: another is refused while the first is in use, and takes its place once it is not', async () => {
    const port = await freePort();
    const { url } = await server(port, { SESSION_GRACE_MS: '300' });
    const shop = await startAgent(url, String(app.port), { WINGMAN_STATE_DIR: join(stateDir, 'agent') }, ['--token', TOKEN_A, '--name', 'shop']);
    expect(await refused(url, TOKEN_A, ['--name', 'cart'])).toEqual({
      code: 'ERR_NAME_LIMIT',
      message: 'this agent token holds the name "shop", which a session uses now: a token holds one name; stop that tunnel first, or use --name shop',
      exit: 1,
    });
    await shop.agent.kill();
    // The grace period (300 ms) ends; the token's name moves to cart, and shop is free for another token.
    const cart = await startAgentWhenFree(url, TOKEN_A, 'cart');
    expect(cart.url).toBe(`http://cart.localhost:${port}/`);
    expect((await tlsAsk(port, 'shop.localhost')).status).toBe(404);
    const bobs = await startAgent(url, String(app.port), { WINGMAN_STATE_DIR: join(stateDir, 'bob') }, ['--token', TOKEN_B, '--name', 'shop']);
    expect(bobs.url).toBe(`http://shop.localhost:${port}/`);
  });

  it('refuses a name that breaks the rules before connecting (exit 2), and the server refuses one sent anyway', async () => {
    const cases: Array<[string, RegExp]> = [
      ['ab', /a name has 3 to 25 characters/],
      ['Shop', /lower-case letters, digits and hyphens/],
      ['-shop', /lower-case letters, digits and hyphens/],
      ['www', /"www" is reserved/],
      ['xn--shop', /two hyphens in a row/],
      // A random session id's shape: 26 characters, one more than a name may have.
      ['abcdefghijklmnopqrstuvwxyz', /a name has 3 to 25 characters/],
    ];
    for (const [name, why] of cases) {
      const proc = startProcess(AGENT_BIN, ['http', String(app.port), '--name', name, '--inspect', 'false']);
      const { code } = await proc.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS });
      expect({ name, code, err: proc.stderr() }).toEqual({ name, code: 2, err: expect.stringMatching(why) });
    }
    const port = await freePort();
    await server(port);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__wingman/agent`, { headers: { authorization: `Bearer ${TOKEN_A}`, host: `localhost:${port}` } });
    const answer = await new Promise<unknown>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'register', version: 1, p2p: false, client: 'test', name: 'admin' })));
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString())));
      ws.once('error', reject);
    });
    ws.close();
    expect(answer).toMatchObject({ type: 'error', code: 'ERR_NAME_INVALID', message: expect.stringMatching(/"admin" is reserved/) });
  });

  it('refuses the name to another token with the reason, and to a second agent of its own token while the first serves it', () => nameRefused);
});

/** Starts the token's agent with `name`, retrying while the server still counts the token's previous name as in use (its grace period). */
async function startAgentWhenFree(url: string, token: string, name: string): Promise<{ url: string }> {
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  for (;;) {
    const proc = agentProc(url, token, ['--name', name]);
    const first = await proc.waitFor((e) => e.event === 'ready' || e.event === 'fatal', EXIT_TIMEOUT_MS);
    if (first.event === 'ready') return { url: String(first.url) };
    await proc.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS });
    if (first.code !== 'ERR_NAME_LIMIT' || Date.now() > deadline) throw new Error(`--name ${name}: ${String(first.code)} ${String(first.message)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The test 'refuses the name to another token …' in place `at` (it runs from beforeAll on, see there). */
async function refusesTheName(at: Place): Promise<void> {
  const port = await freePort();
  const { url } = await server(port, {}, at);
  await startAgent(url, String(at.app.port), { WINGMAN_STATE_DIR: join(at.stateDir, 'agent') }, ['--token', TOKEN_A, '--name', 'shop']);
  expect(await refused(url, TOKEN_B, ['--name', 'shop'], at)).toEqual({
    code: 'ERR_NAME_TAKEN',
    message: 'the name "shop" belongs to another agent token on this server; choose another --name',
    exit: 1,
  });
  // The same token's second agent: the name is served already.
  expect(await refused(url, TOKEN_A, ['--name', 'shop'], at)).toMatchObject({ code: 'ERR_SESSION_IN_USE', exit: 1 });
}
