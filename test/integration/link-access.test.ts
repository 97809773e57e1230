/**
 * Access by capability (docs/PROTOCOL.md §Link access): a session's host
 * name gives nothing; the link key does, through the token derived from it.
 * Each new session gets a new key, a resumed one keeps its own, and
 * `--public` opts out — through real server and agent processes on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, linkKeyBytes, SIGNAL_PATH } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send, type Reply } from '../helpers/http-client';
import { killAll, LINK_ONLY_AGENT_ENV, runWingmanFetch, startAgent, startServer } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, NAVIGATION_HEADERS, untilTrue, upgradeStatus, viewerStateOf } from '../helpers/viewer-client';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

let app: FixtureApp;
let server: { port: number; url: string };
let stateDir: string;

beforeEach(async () => {
  app = await startFixtureApp();
  const s = await startServer();
  server = { port: s.port, url: s.url };
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-link-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const keyOf = (link: string) => new URL(link).hash.replace(/^#k=/, '');
/** The token a viewer derives from the link key (what the bootstrap page computes with WebCrypto). */
const tokenOf = (link: string) =>
  createHmac('sha256', linkKeyBytes(keyOf(link))!)
    .update(LINK_ACCESS_LABEL)
    .digest('base64url');
const cookieOf = (reply: Reply) => (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('wingman_link='));
const linkOnly = LINK_ONLY_AGENT_ENV;
/** `wingman http` on the fixture app with the default (only the full link opens the session), its state in this test's directory. */
const startLinkAgent = (args: string[]) => startAgent(server.url, String(app.port), { ...linkOnly, WINGMAN_STATE_DIR: stateDir }, args);

describe('link keys', () => {
  it('a session that ended gives way to a new URL with a new key; a resumed session keeps its key', async () => {
    const first = await startLinkAgent(['--expires', '2s', '--no-p2p', '--inspect', 'false']);
    await first.agent.waitFor((e) => e.event === 'fatal' && e.code === 'ERR_SESSION_EXPIRED', 15_000);
    await first.agent.waitForExit();

    const second = await startLinkAgent(['--no-p2p', '--inspect', 'false']);
    expect(second.url).not.toBe(first.url);
    expect(keyOf(second.link)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(keyOf(second.link)).not.toBe(keyOf(first.link));
    // The old key opens nothing of the new session.
    const host = new URL(second.url).host;
    expect((await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: tokenOf(first.link) } })).status).toBe(403);

    // Restarted within the grace period: the same URL and the same key, which still opens it.
    await second.agent.kill('SIGKILL');
    const resumed = await startLinkAgent(['--no-p2p', '--inspect', 'false']);
    expect(resumed.url).toBe(second.url);
    expect(resumed.link).toBe(second.link);
    expect((await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: tokenOf(second.link) } })).body.toString()).toBe('hello GET');
  });
});

describe('access by capability', () => {
  it('the host name alone gets no byte of the app, its signaling or its relay; the token earns a cookie the app never sees', async () => {
    const { url, link } = await startLinkAgent(['--inspect', 'false']);
    const host = new URL(url).host;

    const plain = await send(server.port, host, { path: '/hello' });
    expect(plain.status).toBe(403);
    expect(plain.body.toString()).toContain('ERR_LINK_INCOMPLETE');
    expect(plain.body.toString()).not.toContain('hello');
    // A browser's navigation gets the bootstrap page: a script that reads #k=, nothing of the app.
    const nav = await send(server.port, host, { path: '/', headers: NAVIGATION_HEADERS });
    expect(nav.status).toBe(403);
    expect(nav.body.toString()).toContain(LINK_PATH);
    expect(nav.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    for (const path of ['/__wingman/client.js', '/__wingman/sw.js', '/__wingman/session']) {
      expect((await send(server.port, host, { path })).status).toBe(403);
    }
    expect(await upgradeStatus(server.port, host, SIGNAL_PATH)).toBe(403);
    expect(await upgradeStatus(server.port, host, '/ws')).toBe(403);
    // A token that is not this link's, or not a token at all.
    const other = createHmac('sha256', Buffer.alloc(16)).update(LINK_ACCESS_LABEL).digest('base64url');
    expect((await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: other } })).status).toBe(403);
    expect((await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: 'x'.repeat(5000) } })).status).toBe(403);
    expect((await send(server.port, host, { path: '/hello', headers: { cookie: 'wingman_link=' + 'A'.repeat(43) } })).status).toBe(403);

    // The bootstrap page's exchange: 204 and a host-only, HttpOnly, SameSite=Lax cookie.
    const exchange = await send(server.port, host, { method: 'POST', path: LINK_PATH, headers: { [LINK_TOKEN_HEADER]: tokenOf(link) } });
    expect(exchange.status).toBe(204);
    const setCookie = cookieOf(exchange)!;
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Lax/i);
    expect(setCookie).not.toMatch(/domain=/i);
    const cookie = setCookie.split(';')[0]!;
    expect((await send(server.port, host, { path: '/hello', headers: { cookie } })).body.toString()).toBe('hello GET');
    expect((await send(server.port, host, { path: '/__wingman/client.js', headers: { cookie } })).status).toBe(200);
    expect(await upgradeStatus(server.port, host, SIGNAL_PATH, { cookie })).toBe(101);

    // Neither the cookie nor the token reaches the app; the app's own cookies do.
    const seen = JSON.parse(
      (await send(server.port, host, { path: '/headers', headers: { cookie: `${cookie}; app=1`, [LINK_TOKEN_HEADER]: tokenOf(link) } })).body.toString(),
    );
    expect(seen.cookie).toBe('app=1');
    expect(seen[LINK_TOKEN_HEADER]).toBeUndefined();
    // The token in a header is enough for a script (and earns the cookie for its next requests).
    const scripted = await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: tokenOf(link) } });
    expect(scripted.body.toString()).toBe('hello GET');
    expect(cookieOf(scripted)).toBeDefined();
    // The server keeps only SHA-256 of the token: the verifier is not a token.
    const verifier = createHash('sha256')
      .update(Buffer.from(tokenOf(link), 'base64url'))
      .digest('base64url');
    expect((await send(server.port, host, { path: '/hello', headers: { [LINK_TOKEN_HEADER]: verifier } })).status).toBe(403);
  });

  it('wingman fetch with the full link gets the app over P2P and over the relay; the bare URL gets nothing', async () => {
    const { url, link } = await startLinkAgent(['--inspect', 'false']);
    const full = `${url}hello${new URL(link).hash}`;
    const p2p = await runWingmanFetch([full]);
    expect(p2p).toMatchObject({ code: 0, out: 'hello GET' });
    expect(p2p.err).toMatch(/200 via p2p/);
    expect(p2p.err).toMatch(/verified: the channel ends at the holder of the link key/);
    const relay = await runWingmanFetch(['--relay-only', full]);
    expect(relay).toMatchObject({ code: 0, out: 'hello GET' });
    expect(relay.err).toMatch(/200 via relay/);
    const bare = await runWingmanFetch([`${url}hello`]);
    expect(bare.code).toBe(1);
    expect(bare.out).not.toContain('hello GET');
    expect(bare.err).toMatch(/403/);
  });

  it('--password asks for the password only after the link, and both are removed before the app', async () => {
    const { url, link } = await startLinkAgent(['--no-p2p', '--inspect', 'false', '--password', 'pw']);
    const host = new URL(url).host;
    expect((await send(server.port, host, { path: '/hello', headers: { authorization: `Basic ${Buffer.from(':pw').toString('base64')}` } })).status).toBe(403);
    const exchange = await send(server.port, host, { method: 'POST', path: LINK_PATH, headers: { [LINK_TOKEN_HEADER]: tokenOf(link) } });
    expect(exchange.status).toBe(204);
    const cookie = cookieOf(exchange)!.split(';')[0]!;
    expect((await send(server.port, host, { path: '/hello', headers: { cookie } })).status).toBe(401);
    const both = await send(server.port, host, { path: '/hello', headers: { cookie, authorization: `Basic ${Buffer.from(':pw').toString('base64')}` } });
    expect(both.body.toString()).toBe('hello GET');
  });

  it('--approve: the host alone never reaches the developer as a waiting viewer; a viewer with the link waits, then is admitted', async () => {
    const { agent, url, link } = await startLinkAgent(['--no-p2p', '--inspect', '0', '--approve']);
    const host = new URL(url).host;
    const inspector = inspectorPortOf(agent);
    for (let i = 0; i < 3; i++) expect((await send(server.port, host, { path: '/', headers: NAVIGATION_HEADERS })).status).toBe(403);
    const waiting = await send(server.port, host, { path: '/', headers: { ...NAVIGATION_HEADERS, [LINK_TOKEN_HEADER]: tokenOf(link) } });
    expect(waiting.status).toBe(403);
    expect(waiting.body.toString()).toContain('ERR_VIEWER_WAITING');
    const cookies = (waiting.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!);
    const viewer = cookies.find((c) => c.startsWith('wingman_viewer='))!;
    const id = viewer.slice('wingman_viewer='.length).split('.')[0]!;
    await untilTrue('the viewer with the link waiting in the inspector', async () => (await viewerStateOf(inspector, id)) === 'waiting');
    // Only that one: the requests without the link were refused before the viewer gate.
    expect((await inspectorApi(inspector, '/api/viewers')).json.viewers).toHaveLength(1);
    expect((await inspectorApi(inspector, `/api/viewers/${id}/admit`, 'POST')).status).toBe(202);
    const cookie = cookies.join('; ');
    await untilTrue('the admission', async () => (await send(server.port, host, { path: '/hello', headers: { cookie } })).status === 200);
    expect((await send(server.port, host, { path: '/hello', headers: { cookie: viewer } })).status).toBe(403);
  });

  it('--public: the host name opens the session, and the agent warns that host names are discoverable', async () => {
    const { agent, url, link } = await startLinkAgent(['--public', '--no-p2p', '--inspect', 'false']);
    expect(keyOf(link)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await send(server.port, new URL(url).host, { path: '/hello' })).body.toString()).toBe('hello GET');
    await until(() => agent.stderr().includes('WARN_PUBLIC_SESSION'), { timeoutMs: 10_000, what: 'the --public warning' });
    expect(agent.stderr()).toMatch(/"code":"WARN_PUBLIC_SESSION","message":"--public: anyone who knows the session's host name may open it[^"]+discoverable/);
  });
});
