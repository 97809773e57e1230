/**
 * The sign-in gate (`wingman http --allow-email`) against a real OpenID
 * Provider (npm oidc-provider in a child process, test/helpers/oidc-provider-child.mjs),
 * through real server and agent processes on loopback, with a cookie jar in
 * place of a browser (test/helpers/cookie-browser.ts). A viewer signs in once
 * on the apex; the session's origin gets its own cookie through a one-time
 * hand-off; the app never sees either. A disallowed email, an ID token for
 * another audience, with a bad signature or expired, and a replayed answer
 * are each refused with a page that says so. Every step is bound to the
 * browser that started the sign-in: an answer or hand-off taken to another
 * browser signs nobody in, and the server keeps nothing per sign-in started.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { SIGNAL_PATH } from '@wingman/protocol';
import { CookieBrowser, type Page } from '../helpers/cookie-browser';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { startProvider } from '../helpers/oidc-provider';
import { freePort } from '../helpers/ports';
import { inspectorApi, inspectorPortOf, untilTrue } from '../helpers/viewer-client';
import { AGENT_BIN, killAll, startAgent, startProcess, startServer, type Proc } from '../helpers/processes';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

jest.setTimeout(120_000);

/** A body large enough to span many relay frames. */
const BODY_BYTES = 300_000;

/** The shortest sign-in the server allows (SIGN_IN_TTL_S, docs/operations.md): what the tests that see one end wait for. */
const TTL_S = 10;

/**
 * The file's one OpenID Provider, started once (it makes its keys as it starts), with a redirect URI on each of three
 * ports: `port`, where the first describe's one server listens; `ownPort`, for a test's server of its own; `endPort`,
 * for the last describe's second server.
 */
let provider: Awaited<ReturnType<typeof startProvider>>;
let port: number;
let ownPort: number;
let endPort: number;
let app: FixtureApp;
/** The first describe's server on `port`: configured with the provider only, it keeps nothing of a test but its sessions. */
let fileServer: Awaited<ReturnType<typeof startServer>> | undefined;

const callbackOn = (p: number) => `http://localhost:${p}/__wingman/sign-in/callback`;

beforeAll(async () => {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  [port, ownPort, endPort] = [...ports] as [number, number, number];
  provider = await startProvider(callbackOn(port), callbackOn(ownPort), callbackOn(endPort));
});

afterAll(async () => {
  await provider?.proc.kill();
});

/** Closes the viewers and stops every process but the provider and `keep`, then the fixture app. */
async function stopAll(keep: Proc[] = []): Promise<void> {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll([provider.proc, ...keep]);
    await app.close();
  }
}

const startOidcServer = (serverEnv: Record<string, string>, on: number) =>
  startServer({ OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: provider.clientId, OIDC_CLIENT_SECRET: provider.clientSecret, ...serverEnv }, [
    '--port',
    String(on),
  ]);

/**
 * An agent on the fixture app with `agentArgs`, on the file's server, or with `own`, on a server of the test's own
 * configured with the provider and `own.env`, on `own.port` (default `ownPort`).
 */
async function share(agentArgs: string[], own?: { env?: Record<string, string>; port?: number }) {
  // Its ID tokens as it issues them, whatever an earlier test had it do to them.
  await provider.tamper('');
  const on = own ? (own.port ?? ownPort) : port;
  const restartServer = () => startOidcServer(own?.env ?? {}, on);
  if (!own) fileServer ??= await restartServer();
  const server = own ? await restartServer() : fileServer!;
  // A session of its own: a server on a port has the same URL in every test, an earlier test's session is not resumed.
  const agent = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: join(tmpdir(), `wingman-sign-in-${on}-${process.pid}`) }, [
    '--inspect',
    'false',
    '--new-session',
    ...agentArgs,
  ]);
  const origin = new URL(agent.url).origin;
  // With `own`: another server process on the same port and state directory (so the same keys).
  return { provider, server, ...agent, origin, restartServer };
}

const text = (p: Page) => p.body.toString('utf8');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function direct(path: string): Promise<Buffer> {
  const res = await fetch(`http://127.0.0.1:${app.port}${path}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The status of an upgrade to `path` on `origin` with the jar's cookies (101 when it opened). */
function upgradeStatus(browser: CookieBrowser, origin: string, path: string): Promise<number> {
  const url = new URL(path, origin);
  const cookie = browser.cookieHeader(url);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${url.port}${path}`, { headers: { host: url.host, ...(cookie ? { cookie } : {}) } });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('error', reject);
  });
}

/** One server for the file, an agent (a session) per test, and servers of their own for the tests that restart theirs or configure it. */
describe('the sign-in gate', () => {
  beforeEach(async () => {
    app = await startFixtureApp();
  });

  afterEach(() => stopAll(fileServer ? [fileServer.server] : []));

  afterAll(async () => {
    await fileServer?.server.kill();
    fileServer = undefined;
  });

  test('an allowed email signs in once and gets the app, byte-equal to the app itself; the app sees none of the gate', async () => {
    const s = await share(['--allow-email', 'alice@example.com', '--allow-email', '*@team.example.com']);
    const browser = new CookieBrowser();
    // Before signing in: nothing of the session, by any path.
    expect((await browser.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
    expect(await upgradeStatus(browser, s.origin, SIGNAL_PATH)).toBe(401);
    expect(app.requested).not.toContain('/bytes');

    await s.provider.nextLogin('alice@example.com');
    const pages = await browser.navigate(`${s.origin}/hello?x=1`);
    const hops = pages.map((p) => `${p.status} ${new URL(p.url).host}${new URL(p.url).pathname}`);
    // Session → its sign-in start (binds this browser) → apex sign-in → provider → apex callback → session hand-off → back where the viewer was going.
    expect(hops[0]).toBe(`302 ${new URL(s.origin).host}/hello`);
    expect(hops[1]).toBe(`302 ${new URL(s.origin).host}/__wingman/sign-in`);
    expect(hops[2]).toBe(`302 ${new URL(s.server.url).host}/__wingman/sign-in`);
    expect(hops).toContain(`302 ${new URL(s.server.url).host}/__wingman/sign-in/callback`);
    expect(hops).toContain(`302 ${new URL(s.origin).host}/__wingman/sign-in`);
    expect(new URL(pages.at(-1)!.url).pathname + new URL(pages.at(-1)!.url).search).toBe('/hello?x=1');
    expect(pages.at(-1)!.status).toBe(200);

    const body = await browser.fetch(`${s.origin}/bytes?n=${BODY_BYTES}`);
    expect(body.status).toBe(200);
    expect(sha(body.body)).toBe(sha(await direct(`/bytes?n=${BODY_BYTES}`)));
    expect(await upgradeStatus(browser, s.origin, SIGNAL_PATH)).toBe(101);

    const seen = JSON.parse(
      text(await browser.fetch(`${s.origin}/headers`, { headers: { cookie: `${browser.cookieHeader(new URL(s.origin))}; mine=1` } })),
    ) as Record<string, string>;
    expect(seen.cookie).toBe('mine=1');
    expect(JSON.stringify(seen)).not.toMatch(/wingman_|alice@example\.com/);

    // The apex remembers the sign-in: a second session of the same server needs no visit to the provider.
    const other = await startAgent(s.server.url, String(app.port), { WINGMAN_STATE_DIR: join(tmpdir(), `wingman-sign-in-2-${process.pid}`) }, [
      '--inspect',
      'false',
      '--allow-email',
      '*@example.com',
    ]);
    await s.provider.nextLogin('mallory@example.com');
    const again = await browser.navigate(`${new URL(other.url).origin}/hello`);
    expect(again.map((p) => new URL(p.url).host)).not.toContain(new URL(s.provider.issuer).host);
    expect(again.at(-1)!.status).toBe(200);
  });

  test('a signed-in viewer the developer revokes is refused when the same person signs in from another browser', async () => {
    const s = await share(['--allow-email', '*@example.com', '--inspect', '0']);
    const inspector = inspectorPortOf(s.agent);
    const first = new CookieBrowser();
    await s.provider.nextLogin('alice@example.com');
    expect((await first.navigate(`${s.origin}/hello`)).at(-1)!.status).toBe(200);
    const alice = () =>
      inspectorApi(inspector, '/api/viewers').then(({ json }) => json.viewers.find((v: { email?: string }) => v.email === 'alice@example.com'));
    await untilTrue('alice in the inspector', async () => (await alice()) !== undefined);
    expect((await inspectorApi(inspector, `/api/viewers/${(await alice()).id}/revoke`, 'POST')).status).toBe(202);
    await untilTrue('the revocation in the inspector', async () => (await alice()).state === 'refused');

    // A browser without any of the first one's cookies, signing in at the provider as the same person.
    const second = new CookieBrowser();
    await s.provider.nextLogin('alice@example.com');
    const refused = (await second.navigate(`${s.origin}/hello`)).at(-1)!;
    expect(refused.status).toBe(403);
    expect(text(refused)).toContain('ERR_VIEWER_REFUSED');
    // Someone else still gets in.
    const third = new CookieBrowser();
    await s.provider.nextLogin('bob@example.com');
    expect((await third.navigate(`${s.origin}/hello`)).at(-1)!.status).toBe(200);
  });

  test('the developer sees the signed-in email in the viewer event', async () => {
    const s = await share(['--allow-email', 'alice@example.com']);
    await s.provider.nextLogin('alice@example.com');
    await new CookieBrowser().navigate(`${s.origin}/hello`);
    const ev = await s.agent.waitFor((e) => e.event === 'viewer' && e.email !== undefined);
    expect(ev).toMatchObject({ event: 'viewer', state: 'admitted', email: 'alice@example.com' });
  });

  test('a domain the developer did not allow gets a 403 page that names the signed-in email', async () => {
    const s = await share(['--allow-email', '*@example.com']);
    const browser = new CookieBrowser();
    await s.provider.nextLogin('carol@elsewhere.org');
    const pages = await browser.navigate(`${s.origin}/hello`);
    const last = pages.at(-1)!;
    // Wingman's page, on the session's origin, once the provider has answered.
    expect(loginPagesOf(s.provider, pages)).toHaveLength(1);
    expect(new URL(last.url).origin).toBe(s.origin);
    expect(last.status).toBe(403);
    expect(text(last)).toContain('carol@elsewhere.org');
    expect(text(last)).toContain('ERR_EMAIL_NOT_ALLOWED');
    // No cookie for the session, so nothing else of it either.
    expect(browser.cookie(new URL(s.origin).hostname, 'wingman_signin')).toBeUndefined();
    expect((await browser.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
    expect(app.requested).not.toContain('/hello');

    // Its link starts a sign-in with another account (the apex's remembered one is not reused).
    const again = /<a href="([^"]+)">Sign in with another account<\/a>/.exec(text(last))?.[1]?.replaceAll('&#38;', '&');
    expect(again).toBe('/__wingman/sign-in?return=%2Fhello&switch=1');
    await s.provider.nextLogin('alice@example.com');
    const switched = await browser.navigate(new URL(again!, s.origin).href);
    // The provider asks who signs in, though it remembers carol, and ends carol's session there first (a page that posts a form).
    expect(loginPagesOf(s.provider, switched)).toHaveLength(1);
    const end = switched.at(-1)!;
    expect(`${new URL(end.url).origin}${new URL(end.url).pathname}`).toBe(`${s.origin}/hello`);
    expect(end.status).toBe(200);
    // Signed in as alice now: the app answers.
    expect(text(await browser.fetch(`${s.origin}/hello`))).toBe('hello GET');
    expect(app.requested).toContain('/hello');
  });

  /** The provider's login pages among `pages` (its interaction: where a person types their password). */
  function loginPagesOf(provider: { issuer: string }, pages: Page[]): Page[] {
    const host = new URL(provider.issuer).host;
    return pages.filter((p) => new URL(p.url).host === host && new URL(p.url).pathname.startsWith('/interaction/'));
  }

  test.each([
    ['OIDC_PROMPT=login', { OIDC_PROMPT: 'login' }, 1],
    ['no OIDC_PROMPT (the default)', {}, 0],
  ])(
    "with %s, a viewer who signs in again after its Wingman cookies are gone meets the provider's login page that many times",
    async (_name, serverEnv, logins) => {
      const s = await share(['--allow-email', 'alice@example.com'], { env: serverEnv });
      const browser = new CookieBrowser();
      const provider = new URL(s.provider.issuer);
      const loginPages = (pages: Page[]) => loginPagesOf(s.provider, pages);
      await s.provider.nextLogin('alice@example.com');
      const first = await browser.navigate(`${s.origin}/hello`);
      expect(loginPages(first)).toHaveLength(1);
      expect(first.at(-1)!.status).toBe(200);

      // Signed out of Wingman (the apex's and the session's cookies gone); the provider's own session is still in this browser.
      browser.forget(new URL(s.server.url).hostname);
      browser.forget(new URL(s.origin).hostname);
      expect(browser.cookieHeader(provider)).toBeDefined();
      // The same account: another one makes oidc-provider end its session first, by a page that posts a form.
      await s.provider.nextLogin('alice@example.com');
      const again = await browser.navigate(`${s.origin}/hello`);
      expect(loginPages(again)).toHaveLength(logins);
      expect(again.at(-1)!.status).toBe(200);
      expect(new URL(again.at(-1)!.url).pathname).toBe('/hello');
    },
  );

  test.each([
    ['aud', 'another audience', 'unexpected JWT &#34;aud&#34; (audience) claim value'],
    ['signature', 'a signature by another key', 'JWT signature verification failed'],
    ['expired', 'an expiry in the past', 'unexpected JWT &#34;exp&#34; (expiration time) claim value'],
  ] as const)('an ID token with %s (%s) signs nobody in', async (how, _what, reason) => {
    const s = await share(['--allow-email', 'alice@example.com']);
    const browser = new CookieBrowser();
    await s.provider.nextLogin('alice@example.com');
    await s.provider.tamper(how);
    const pages = await browser.navigate(`${s.origin}/hello`);
    const last = pages.at(-1)!;
    expect(new URL(last.url).pathname).toBe('/__wingman/sign-in/callback');
    expect(last.status).toBe(400);
    expect(text(last)).toContain(`answer did not verify, so nobody was signed in: ${reason}`);
    expect(text(last)).toContain('ERR_SIGN_IN_FAILED');
    expect(browser.cookie(new URL(s.server.url).hostname, 'wingman_identity')).toBeUndefined();
    expect((await browser.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
    expect(app.requested).not.toContain('/hello');
  });

  test('a replayed answer of the provider is refused, and so is a replayed hand-off', async () => {
    const s = await share(['--allow-email', 'alice@example.com']);
    const browser = new CookieBrowser();
    await s.provider.nextLogin('alice@example.com');
    const pages = await browser.navigate(`${s.origin}/hello`);
    const callback = pages.find((p) => new URL(p.url).pathname === '/__wingman/sign-in/callback')!;
    const handOff = pages.find((p) => new URL(p.url).host === new URL(s.origin).host && new URL(p.url).searchParams.has('t'))!;

    const replay = await browser.fetch(callback.url);
    expect(replay.status).toBe(400);
    expect(text(replay)).toContain('already used');
    expect(replay.headers['set-cookie']).toBeUndefined();

    // The same browser again: used once already.
    const again = await browser.fetch(handOff.url);
    expect(again.status).toBe(400);
    expect(text(again)).toContain('already used');
    // Another browser with the hand-off link (one not yet used: the login CSRF test below).
    const stranger = new CookieBrowser();
    const stolen = await stranger.fetch(handOff.url);
    expect(stolen.status).toBe(400);
    expect(text(stolen)).toContain('ERR_SIGN_IN_FAILED');
    expect((await stranger.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
  });

  test("an attacker's own sign-in taken to another browser signs nobody in there (login CSRF), and still signs in the browser that started it", async () => {
    const s = await share(['--allow-email', '*@example.com']);
    const sessionHost = new URL(s.origin).host;
    const apexHost = new URL(s.server.url).host;
    const isHandOff = (u: URL) => u.host === sessionHost && u.pathname === '/__wingman/sign-in' && u.searchParams.has('t');
    const isCallback = (u: URL) => u.host === apexHost && u.pathname === '/__wingman/sign-in/callback';

    // The attacker signs in as themselves and keeps the hand-off link instead of following it.
    const attacker = new CookieBrowser();
    await s.provider.nextLogin('mallory@example.com');
    const handOff = (await attacker.navigateUntil(`${s.origin}/hello`, isHandOff)).next!;
    expect(handOff).toBeDefined();

    // The victim: a browser that has started a sign-in of its own (so it holds every sign-in cookie, its own).
    const victim = new CookieBrowser();
    await victim.navigateUntil(`${s.origin}/hello`, (u) => u.host === new URL(s.provider.issuer).host);
    const planted = await victim.navigate(handOff);
    expect(planted.at(-1)!.status).toBe(400);
    expect(text(planted.at(-1)!)).toContain('started in another browser');
    expect(text(planted.at(-1)!)).toContain('ERR_SIGN_IN_FAILED');
    expect(victim.cookie(new URL(s.origin).hostname, 'wingman_signin')).toBeUndefined();
    expect((await victim.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);

    // The provider's answer to the attacker's sign-in, taken to the victim: refused at the apex too.
    const second = new CookieBrowser();
    await s.provider.nextLogin('mallory@example.com');
    const answer = (await second.navigateUntil(`${s.origin}/hello`, isCallback)).next!;
    const refused = await victim.navigate(answer);
    expect(refused.at(-1)!.status).toBe(400);
    expect(text(refused.at(-1)!)).toContain('not for the sign-in this browser started');
    expect(victim.cookie(new URL(s.server.url).hostname, 'wingman_identity')).toBeUndefined();
    expect((await victim.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
    expect(app.requested).not.toContain('/hello');

    // The attacker's own browser still finishes its sign-in with the same hand-off.
    const own = await attacker.navigate(handOff);
    expect(own.at(-1)!.status).toBe(200);
    expect(new URL(own.at(-1)!.url).pathname).toBe('/hello');
  });

  test('the server keeps nothing per sign-in started: one part way through at the provider finishes across a restart of the server', async () => {
    const s = await share(['--allow-email', 'alice@example.com'], {});
    const browser = new CookieBrowser();
    await s.provider.nextLogin('alice@example.com');
    const { next: atProvider } = await browser.navigateUntil(`${s.origin}/hello`, (u) => u.host === new URL(s.provider.issuer).host);
    expect(atProvider).toBeDefined();

    await s.server.server.kill();
    await s.restartServer();
    const sessionHost = new URL(s.origin).host;
    const { pages, next } = await browser.navigateUntil(atProvider!, (u) => u.host === sessionHost);
    expect(new URL(pages.at(-1)!.url).pathname).toBe('/__wingman/sign-in/callback');
    expect(pages.at(-1)!.status).toBe(302);
    expect(new URL(next!).pathname).toBe('/__wingman/sign-in');
    expect(new URL(next!).searchParams.has('t')).toBe(true);
    expect(browser.cookie(new URL(s.server.url).hostname, 'wingman_identity')).toBeDefined();
  });

  test('a session without --allow-email on the same server is not gated', async () => {
    const s = await share([]);
    const browser = new CookieBrowser();
    const body = await browser.fetch(`${s.origin}/bytes?n=1000`);
    expect(body.status).toBe(200);
    expect(sha(body.body)).toBe(sha(await direct('/bytes?n=1000')));
  });

  test('a server without sign-in refuses a session with --allow-email, and says why', async () => {
    const server = await startServer();
    const agent = startProcess(
      AGENT_BIN,
      ['http', String(app.port), '--server', server.url, '--json', '--inspect', 'false', '--allow-email', 'alice@example.com'],
      {
        WINGMAN_STATE_DIR: join(tmpdir(), `wingman-sign-in-none-${process.pid}`),
      },
    );
    const fatal = await agent.waitForEvent('fatal');
    expect(fatal.code).toBe('ERR_SIGN_IN_UNAVAILABLE');
    expect(String(fatal.message)).toContain('no sign-in configured');
    expect((await agent.waitForExit()).code).not.toBe(0);
  });
});

/**
 * Each test here waits out a sign-in of TTL_S, the shortest there is. Both start in beforeAll, each with a server of
 * its own (on `port` and on `endPort`), its own agent, browser and P2P viewer, so the file waits out one sign-in, not
 * two; each test awaits its own run and its assertions. Both sign in as alice: the provider's one next login serves both.
 */
describe("a viewer's P2P channel ends when its sign-in ends", () => {
  let relayed: Promise<void>;
  let serverGone: Promise<void>;

  beforeAll(async () => {
    app = await startFixtureApp();
    // One after the other up to their agents' ready lines; then both sign-ins run at once.
    const first = await share(['--allow-email', 'alice@example.com'], { env: { SIGN_IN_TTL_S: String(TTL_S) } });
    const second = await share(['--allow-email', 'alice@example.com'], { env: { SIGN_IN_TTL_S: String(TTL_S) }, port: endPort });
    relayed = endsAsRelayedRequestsDo(first);
    serverGone = endsWhileTheServerIsGone(second);
    // Each is awaited by its test below.
    relayed.catch(() => undefined);
    serverGone.catch(() => undefined);
  });

  afterAll(() => stopAll());

  test('as its relayed requests do', () => relayed);

  test('while the server that signed it in is gone', () => serverGone);
});

async function endsAsRelayedRequestsDo(s: Awaited<ReturnType<typeof share>>): Promise<void> {
  const browser = new CookieBrowser();
  await s.provider.nextLogin('alice@example.com');
  const signedInBy = Date.now();
  const pages = await browser.navigate(`${s.origin}/hello`);
  expect(pages.at(-1)!.status).toBe(200);
  const viewer = await connectViewerProcess({ url: s.url, cookie: browser.cookieHeader(new URL(s.origin))!, timeoutMs: 20_000 });
  const closed = viewer.waitForClose(0, (TTL_S + 20) * 1000);
  closed.catch(() => undefined); // awaited below
  const before = await viewer.request({ target: '/bytes?n=1000' });
  expect(before.status).toBe(200);
  expect((await viewer.state()).connection.isClosed).toBe(false);

  // No request of the viewer's needed: the channel ends when the sign-in does, and the agent says why.
  await closed;
  expect(Date.now()).toBeGreaterThanOrEqual(signedInBy + (TTL_S - 1) * 1000);
  const report = await s.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed');
  expect(report).toMatchObject({ reason: 'viewer sign-in ended' });
  expect((await browser.fetch(`${s.origin}/bytes?n=10`)).status).toBe(401);
  expect(await upgradeStatus(browser, s.origin, SIGNAL_PATH)).toBe(401);
}

async function endsWhileTheServerIsGone(s: Awaited<ReturnType<typeof share>>): Promise<void> {
  const browser = new CookieBrowser();
  await s.provider.nextLogin('alice@example.com');
  const signedInBy = Date.now();
  expect((await browser.navigate(`${s.origin}/hello`)).at(-1)!.status).toBe(200);
  const viewer = await connectViewerProcess({ url: s.url, cookie: browser.cookieHeader(new URL(s.origin))!, timeoutMs: 20_000 });
  const closed = viewer.waitForClose(0, (TTL_S + 20) * 1000);
  closed.catch(() => undefined); // awaited below
  expect((await viewer.request({ target: '/bytes?n=1000' })).status).toBe(200);

  // The server goes (killed: nothing to wait for, all before the sign-in ends): the channel never crossed it, so it
  // carries on; then a new process takes its place, which no longer knows the viewer.
  await s.server.server.kill('SIGKILL');
  expect((await viewer.request({ target: '/bytes?n=1000' })).status).toBe(200);
  await s.restartServer();

  await closed;
  expect(Date.now()).toBeGreaterThanOrEqual(signedInBy + (TTL_S - 1) * 1000);
  expect(await s.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed')).toMatchObject({ reason: 'viewer sign-in ended' });
}
