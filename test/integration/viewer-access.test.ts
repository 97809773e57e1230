/**
 * Password-protected sessions (`wingman http --password`), real processes:
 * tunnel server, agent, fixture app. Every way into the session — relayed
 * HTTP, reserved paths, relayed WebSockets, signaling (hence P2P) — needs the
 * password or the access cookie it earns, and neither reaches the app.
 */
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send, type Reply } from '../helpers/http-client';
import { AGENT_BIN, killAll, runWingmanFetch, startAgent, startServer, startTunnel, type Tunnel } from '../helpers/processes';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse: battery';
const basic = (password: string, user = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let app: FixtureApp;
/** The file's server, and its password-protected session that every test shares unless it starts one of its own. */
let shared: Tunnel;
/** The session a test's requests go to: `shared`, or the test's own (`ownSession`). */
let t: Tunnel;
let sessions = 0;

beforeAll(async () => {
  app = await startFixtureApp();
  shared = await startTunnel(String(app.port), { agentArgs: ['--password', PASSWORD] });
});

beforeEach(() => {
  t = shared;
});

afterEach(async () => {
  await killAll([shared.server, shared.agent]);
});

afterAll(async () => {
  await killAll();
  await app?.close();
});

/**
 * A password-protected session of the test's own on the file's server, made the one its requests go to: for a test
 * that sends wrong passwords (counted per session, so none leak into another test's) or stops its agent.
 */
async function ownSession(): Promise<{ stateDir: string }> {
  const stateDir = `/tmp/wingman-access-own-${process.pid}-${++sessions}`;
  const agent = await startAgent(`http://localhost:${shared.serverPort}`, String(app.port), { WINGMAN_STATE_DIR: stateDir }, [
    '--password',
    PASSWORD,
    '--new-session',
  ]);
  t = { ...shared, ...agent, host: new URL(agent.url).host };
  return { stateDir };
}

const get = (path: string, headers: Record<string, string> = {}): Promise<Reply> => send(t.serverPort, t.host, { path, headers });
/** GET /hello with `password`, from loopback `address` (another viewer). */
const from = (address: string, password: string): Promise<Reply> =>
  send(t.serverPort, t.host, { path: '/hello', headers: { authorization: basic(password) }, localAddress: address });

/** The access cookie's `name=value` from a response. */
function accessCookie(r: Reply): string {
  const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  const c = set.find((v) => v.startsWith('wingman_access='));
  if (!c) throw new Error(`no access cookie in ${JSON.stringify(set)}`);
  expect(c).toMatch(/; HttpOnly/i);
  return c.split(';')[0]!;
}

/** Resolves with the HTTP status of a refused upgrade, or 101 when the WebSocket opened. */
function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<{ status: number; ws?: WebSocket }> {
  const answered = new Promise<{ status: number; ws?: WebSocket }>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}${path}`, { headers: { host: t.host, ...headers } });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('error', () => undefined);
  });
  return withTimeout(answered, { timeoutMs: 10_000, what: `an answer to the upgrade of ${path}` });
}

describe('a password-protected session', () => {
  it("says so in the agent's ready line", async () => {
    const ready = await t.agent.waitFor((e) => e.event === 'ready');
    expect(ready.access).toBe('password');
  });

  it('answers a request without credentials with 401, a Basic challenge and a readable page, and the app sees nothing', async () => {
    const r = await get('/hello');
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="Wingman session", charset="UTF-8"');
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.body.toString()).toContain('needs a password');
    expect(r.body.toString()).toContain('ERR_ACCESS_REQUIRED');
    // Reserved paths too: the shell's session info, the bundles and the diagnostics page.
    expect((await get('/__wingman/session')).status).toBe(401);
    expect((await get('/__wingman/client.js')).status).toBe(401);
    expect((await get('/__wingman/diagnostics')).status).toBe(401);
    expect((await get('/__wingman/diagnostics.js')).status).toBe(401);
  });

  it('refuses a wrong password with 401 ERR_ACCESS_DENIED', async () => {
    await ownSession();
    const r = await get('/hello', { authorization: basic('wrong') });
    expect(r.status).toBe(401);
    expect(r.body.toString()).toContain('ERR_ACCESS_DENIED');
  });

  it('serves the app for the right password (any user name) and sets an HttpOnly access cookie', async () => {
    const r = await get('/hello', { authorization: basic(PASSWORD, 'reviewer') });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET');
    expect(accessCookie(r)).toMatch(/^wingman_access=[A-Za-z0-9_-]{43}$/);
  });

  it('serves the diagnostics page and its script to a viewer with the password', async () => {
    const page = await get('/__wingman/diagnostics', { authorization: basic(PASSWORD) });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('Wingman diagnostics');
    expect((await get('/__wingman/diagnostics.js', { authorization: basic(PASSWORD) })).status).toBe(200);
  });

  it("keeps both the app's Set-Cookie and the access cookie on the same response", async () => {
    const r = await get('/headers', { authorization: basic(PASSWORD) });
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    expect(set.some((c) => c.startsWith('app_session=s1'))).toBe(true);
    expect(set.some((c) => c.startsWith('wingman_access='))).toBe(true);
  });

  it('lets the access cookie alone in, and removes it and the password from what the app receives', async () => {
    const cookie = accessCookie(await get('/hello', { authorization: basic(PASSWORD) }));
    const r = await get('/headers', { cookie: `a=1; ${cookie}; b=2` });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']?.some((c) => c.startsWith('wingman_access='))).toBeFalsy();
    const seen = JSON.parse(r.body.toString()) as Record<string, string>;
    expect(seen.cookie).toBe('a=1; b=2');
    expect(seen.authorization).toBeUndefined();

    const withPassword = JSON.parse((await get('/headers', { authorization: basic(PASSWORD), cookie: 'theme=dark' })).body.toString()) as Record<
      string,
      string
    >;
    expect(withPassword.authorization).toBeUndefined();
    expect(withPassword.cookie).toBe('theme=dark');
  });

  it("passes the app's own Authorization (a bearer token) through once the cookie grants access", async () => {
    const cookie = accessCookie(await get('/hello', { authorization: basic(PASSWORD) }));
    const seen = JSON.parse((await get('/headers', { cookie, authorization: 'Bearer app-token' })).body.toString()) as Record<string, string>;
    expect(seen.authorization).toBe('Bearer app-token');
    expect(seen.cookie).toBeUndefined();
  });

  it('does not accept the cookie of another session', async () => {
    const cookie = accessCookie(await get('/hello', { authorization: basic(PASSWORD) }));
    const other = await startAgent(`http://localhost:${t.serverPort}`, String(app.port), { WINGMAN_STATE_DIR: `/tmp/wingman-access-other-${process.pid}` }, [
      '--password',
      PASSWORD,
      '--new-session',
    ]);
    const r = await send(t.serverPort, new URL(other.url).host, { path: '/hello', headers: { cookie } });
    expect(r.status).toBe(401);
  });

  it('throttles guessing per viewer: after 10 wrong passwords in a minute it answers 429, but a viewer with the cookie still gets in', async () => {
    await ownSession();
    const cookie = accessCookie(await get('/hello', { authorization: basic(PASSWORD) }));
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await get('/hello', { authorization: basic(`guess-${i}`) })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const throttled = await get('/hello', { authorization: basic(PASSWORD) });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // X-Forwarded-For is not trusted by default: claiming another address does not escape.
    expect((await get('/hello', { authorization: basic(PASSWORD), 'x-forwarded-for': '198.51.100.9' })).status).toBe(429);
    expect((await get('/hello', { cookie })).status).toBe(200);
  });

  it('behind a trusted proxy (TRUST_PROXY=1), a stranger sending wrong passwords does not lock out another viewer', async () => {
    const proxied = await startTunnel(String(app.port), {
      serverEnv: { TRUST_PROXY: '1' },
      agentArgs: ['--password', PASSWORD, '--new-session'],
      agentEnv: { WINGMAN_STATE_DIR: `/tmp/wingman-access-proxied-${process.pid}` },
    });
    // What a reverse proxy in front of the server adds: the address it saw.
    const via = (xff: string, headers: Record<string, string>) =>
      send(proxied.serverPort, proxied.host, { path: '/hello', headers: { 'x-forwarded-for': xff, ...headers } });
    const stranger: number[] = [];
    for (let i = 0; i < 12; i++) stranger.push((await via('203.0.113.7', { authorization: basic(`guess-${i}`) })).status);
    expect(stranger).toEqual([...Array<number>(10).fill(401), 429, 429]);
    expect((await via('203.0.113.7', { authorization: basic(PASSWORD) })).status).toBe(429);
    const reviewer = await via('198.51.100.9', { authorization: basic(PASSWORD) });
    expect(reviewer.status).toBe(200);
    expect(accessCookie(reviewer)).toMatch(/^wingman_access=/);
  });

  it('lets a reviewer with the right password in from a new address after 10 addresses sent 10 wrong passwords each', async () => {
    await ownSession();
    const guesses: number[] = [];
    for (let a = 1; a <= 10; a++) for (let i = 0; i < 10; i++) guesses.push((await from(`127.0.3.${a}`, `guess-${a}-${i}`)).status);
    expect(guesses).toEqual(Array<number>(100).fill(401));
    // The session took its 100 wrong passwords of the minute: the guessers wait, even with the right one...
    const guesser = await from('127.0.3.1', PASSWORD);
    expect(guesser.status).toBe(429);
    expect(Number(guesser.headers['retry-after'])).toBeGreaterThan(0);
    // ... a new address gets one try: the right password gets in, a wrong one makes it wait as well.
    const reviewer = await from('127.0.4.1', PASSWORD);
    expect(reviewer.status).toBe(200);
    expect(accessCookie(reviewer)).toMatch(/^wingman_access=/);
    expect((await from('127.0.4.2', 'one-more-guess')).status).toBe(401);
    expect((await from('127.0.4.2', PASSWORD)).status).toBe(429);
  });

  it("lets a reviewer's right password in on its first try after 1 024 addresses guessed and addresses beyond them were throttled", async () => {
    await ownSession();
    // One wrong password from each of 1 024 addresses (five /24s): every source the throttle tracks in a minute.
    const guesses: number[] = [];
    for (let i = 0; i < 1024; i++) guesses.push((await from(`127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, `guess-${i}`)).status);
    expect(guesses.filter((s) => s !== 401)).toEqual([]);
    // Addresses beyond them guess too, and wait once their network failed...
    expect((await from('127.1.9.1', 'beyond-1')).status).toBe(401);
    expect((await from('127.1.9.2', 'beyond-2')).status).toBe(429);
    // ... while a reviewer on another network gets its one try.
    const reviewer = await from('127.2.0.1', PASSWORD);
    expect(reviewer.status).toBe(200);
    expect(accessCookie(reviewer)).toMatch(/^wingman_access=/);
  });

  it('gates relayed WebSockets: 401 without access, an echo with the cookie', async () => {
    expect((await upgradeStatus('/ws')).status).toBe(401);
    const cookie = accessCookie(await get('/hello', { authorization: basic(PASSWORD) }));
    const { status, ws } = await upgradeStatus('/ws', { cookie });
    expect(status).toBe(101);
    const echoed = await new Promise<string>((resolve) => {
      ws!.once('message', (d) => resolve(d.toString()));
      ws!.send('ping over the relay');
    });
    expect(echoed).toBe('ping over the relay');
    ws!.close();
  });

  it('gates signaling, so P2P needs the password too (wingman fetch)', async () => {
    expect((await upgradeStatus('/__wingman/signal')).status).toBe(401);
    const refused = await runWingmanFetch(['--p2p-only', `${t.url}hello`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/HTTP 401/);
    const p2p = await runWingmanFetch(['--password', PASSWORD, `${t.url}hello`]);
    expect(p2p).toMatchObject({ code: 0, out: 'hello GET' });
    expect(p2p.err).toMatch(/200 via p2p/);
    const inUrl = new URL(t.url);
    inUrl.password = encodeURIComponent(PASSWORD);
    const relay = await runWingmanFetch(['--relay-only', `${inUrl.href}hello`]);
    expect(relay).toMatchObject({ code: 0, out: 'hello GET' });
    expect(relay.err).toMatch(/200 via relay/);
  });
});

describe('an agent that restarts without --password', () => {
  it('opens the session again: the latest register decides', async () => {
    const { stateDir } = await ownSession();
    expect((await get('/hello')).status).toBe(401);
    await t.agent.kill();
    // Same state dir as the session's agent: the restart resumes the same session (same URL).
    const again = await startAgent(`http://localhost:${t.serverPort}`, String(app.port), { WINGMAN_STATE_DIR: stateDir });
    expect(again.url).toBe(t.url);
    expect((await get('/hello')).status).toBe(200);
  });
});

describe('wingman http --password', () => {
  it('rejects an empty password with a usage error', async () => {
    const { server, url } = await startServer();
    const child = spawn(process.execPath, [AGENT_BIN, 'http', String(app.port), '--server', url, '--password', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    expect(code).toBe(2);
    expect(err).toMatch(/invalid --password: expected 1-256 characters/);
    await server.kill();
  });
});
