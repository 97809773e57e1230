/**
 * Address rules (`wingman http --allow-ip/--deny-ip`, and a `wingman start`
 * tunnel's `policy`), through real server and agent processes on loopback.
 * Loopback has all of 127.0.0.0/8, so viewers bind 127.0.0.2 (a network the
 * rules allow) or 127.0.0.3 (one they refuse). A refused address gets nothing
 * of the session by any path: relayed HTTP, the shell, the Service Worker's
 * relay fetches, relayed WebSockets and signaling (so no P2P either), before
 * the link, password and viewer gates; and `--trust-proxy` decides which
 * address that is, as docs/operations.md says.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { LINK_ACCESS_LABEL, LINK_TOKEN_HEADER, linkKeyBytes, SIGNAL_PATH, VIA_HEADER, VIA_SW } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send, type Reply } from '../helpers/http-client';
import { AGENT_BIN, killAll, LINK_ONLY_AGENT_ENV, startAgent, startProcess, startServer } from '../helpers/processes';
import { NAVIGATION_HEADERS } from '../helpers/viewer-client';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const ALLOWED = '127.0.0.2';
const REFUSED = '127.0.0.3';
/** A run of `wingman` expected to stop by itself on a usage error must do so within this. */
const EXIT_TIMEOUT_MS = 15_000;

let app: FixtureApp;
let dir: string;

beforeEach(async () => {
  app = await startFixtureApp();
  dir = mkdtempSync(join(tmpdir(), 'wingman-address-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A server, and an agent on the fixture app with `args` (public unless `env` says otherwise). */
async function share(args: string[], opts: { serverArgs?: string[]; env?: Record<string, string> } = {}) {
  const server = await startServer({}, opts.serverArgs ?? []);
  const agent = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: join(dir, 'state'), ...opts.env }, ['--inspect', 'false', ...args]);
  const host = new URL(agent.url).host;
  return {
    ...agent,
    get: (from: string, path: string, headers: Record<string, string> = {}): Promise<Reply> => send(server.port, host, { path, headers, localAddress: from }),
    upgrade: (from: string, path: string, headers: Record<string, string> = {}) => upgradeFrom(server.port, host, from, path, headers),
  };
}

/** The status (101 when it opened) and body of an upgrade sent from `localAddress`. */
function upgradeFrom(
  port: number,
  host: string,
  localAddress: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host, ...headers }, localAddress });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', reject);
  });
  return withTimeout(answered, { timeoutMs: 10_000, what: `an answer to the upgrade of ${path}` });
}

function expectAddressPage(r: Reply, address: string, why: RegExp): void {
  expect(r.status).toBe(403);
  const page = r.body.toString();
  expect(page).toContain('Your address may not open this link');
  expect(page).toContain(address);
  expect(page).toMatch(why);
  expect(page).toContain('ERR_ADDRESS_REFUSED');
}

describe('address rules', () => {
  it('an allow rule admits its network on every path and refuses any other address on every path, before the app sees a byte', async () => {
    const t = await share(['--allow-ip', `${ALLOWED}/32`, '--allow-ip', '2001:DB8::/32']);
    // The ready line carries the rules as sent, normalised.
    expect(t.agent.events.find((e) => e.event === 'ready')!.addressRules).toEqual({ allow: [`${ALLOWED}/32`, '2001:db8::/32'], deny: [] });
    expect((await t.get(ALLOWED, '/hello')).body.toString()).toBe('hello GET');
    expect((await t.upgrade(ALLOWED, '/ws')).status).toBe(101);
    expect((await t.upgrade(ALLOWED, SIGNAL_PATH)).status).toBe(101);
    expect((await t.get(ALLOWED, '/', NAVIGATION_HEADERS)).status).toBe(200);

    const seen = app.requested.length;
    expectAddressPage(await t.get(REFUSED, '/hello'), REFUSED, /opened it only to certain networks/);
    // The shell of a browser's navigation, Wingman's own paths, and the Service Worker's relay fetches.
    expectAddressPage(await t.get(REFUSED, '/', NAVIGATION_HEADERS), REFUSED, /only to certain networks/);
    expectAddressPage(await t.get(REFUSED, '/__wingman/session'), REFUSED, /only to certain networks/);
    expectAddressPage(await t.get(REFUSED, '/__wingman/client.js'), REFUSED, /only to certain networks/);
    expectAddressPage(await t.get(REFUSED, '/hello', { [VIA_HEADER]: VIA_SW }), REFUSED, /only to certain networks/);
    // Relayed WebSockets, and signaling: no P2P channel can start from there.
    const ws = await t.upgrade(REFUSED, '/ws');
    expect(ws.status).toBe(403);
    expect(ws.body).toContain(`coming from ${REFUSED}`);
    expect(ws.body).toContain('ERR_ADDRESS_REFUSED');
    expect((await t.upgrade(REFUSED, SIGNAL_PATH)).status).toBe(403);
    expect(app.requested.length).toBe(seen);
  });

  it('a deny rule refuses its network and wins over an allow rule that also matches', async () => {
    const t = await share(['--deny-ip', REFUSED, '--allow-ip', '127.0.0.0/8']);
    expect((await t.get(ALLOWED, '/hello')).status).toBe(200);
    expectAddressPage(await t.get(REFUSED, '/hello'), REFUSED, /refused the network it comes from/);
    expect((await t.upgrade(REFUSED, SIGNAL_PATH)).status).toBe(403);
  });

  it('is checked before the link: the full link does not open the session from a refused address, and an allowed one still needs the link', async () => {
    const t = await share(['--allow-ip', ALLOWED], { env: LINK_ONLY_AGENT_ENV });
    const key = new URL(t.link).hash.replace(/^#k=/, '');
    const token = createHmac('sha256', linkKeyBytes(key)!).update(LINK_ACCESS_LABEL).digest('base64url');
    expectAddressPage(await t.get(REFUSED, '/hello', { [LINK_TOKEN_HEADER]: token }), REFUSED, /only to certain networks/);
    expect((await t.upgrade(REFUSED, SIGNAL_PATH, { [LINK_TOKEN_HEADER]: token })).status).toBe(403);
    const noLink = await t.get(ALLOWED, '/hello');
    expect(noLink.status).toBe(403);
    expect(noLink.body.toString()).toContain('ERR_LINK_INCOMPLETE');
    expect((await t.get(ALLOWED, '/hello', { [LINK_TOKEN_HEADER]: token })).body.toString()).toBe('hello GET');
  });

  it('is checked before the password: a refused address is not asked for one', async () => {
    const t = await share(['--allow-ip', ALLOWED], { env: { WINGMAN_PASSWORD: 'open sesame' } });
    const refused = await t.get(REFUSED, '/hello');
    expectAddressPage(refused, REFUSED, /only to certain networks/);
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect((await t.get(ALLOWED, '/hello')).status).toBe(401);
  });

  it('without --trust-proxy, judges the socket peer: an X-Forwarded-For entry in an allowed network does not get in', async () => {
    const t = await share(['--allow-ip', '2001:db8::/32']);
    expectAddressPage(await t.get(ALLOWED, '/hello', { 'x-forwarded-for': '2001:db8::7' }), ALLOWED, /only to certain networks/);
  });

  it('behind --trust-proxy 1, judges the entry the proxy appended, IPv6 included, and refuses one that is not an address', async () => {
    const t = await share(['--allow-ip', '2001:db8::/32', '--deny-ip', '2001:db8:bad::/48'], { serverArgs: ['--trust-proxy', '1'] });
    // What a client wrote further left is not trusted; the proxy's own entry (rightmost) is.
    expect((await t.get(ALLOWED, '/hello', { 'x-forwarded-for': '198.51.100.1, 2001:db8::7' })).body.toString()).toBe('hello GET');
    expect((await t.upgrade(ALLOWED, SIGNAL_PATH, { 'x-forwarded-for': '2001:db8::7' })).status).toBe(101);
    expectAddressPage(await t.get(ALLOWED, '/hello', { 'x-forwarded-for': '2001:db8::7, 198.51.100.1' }), '198.51.100.1', /only to certain networks/);
    expectAddressPage(await t.get(ALLOWED, '/hello', { 'x-forwarded-for': '2001:db8:bad::1' }), '2001:db8:bad::1', /refused the network/);
    expectAddressPage(await t.get(ALLOWED, '/hello', { 'x-forwarded-for': 'not-an-address' }), 'not-an-address', /not an IP address/);
    // No entry at all: the proxy itself (the socket peer) is the viewer, and it is not allowed.
    expectAddressPage(await t.get(ALLOWED, '/hello'), ALLOWED, /only to certain networks/);
  });

  it('closes the signaling sockets of viewers that rules brought by a restarted agent refuse, so none of them gets P2P from the new agent', async () => {
    const server = await startServer();
    const env = { WINGMAN_STATE_DIR: join(dir, 'state') };
    const first = await startAgent(server.url, String(app.port), env, ['--inspect', 'false']);
    const host = new URL(first.url).host;
    const open = (from: string) =>
      withTimeout(
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${server.port}${SIGNAL_PATH}`, { headers: { host }, localAddress: from });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
        { timeoutMs: 10_000, what: `a signaling socket from ${from}` },
      );
    const kept = await open(ALLOWED);
    const refused = await open(REFUSED);
    const closed = withTimeout(new Promise<void>((resolve) => refused.once('close', () => resolve())), {
      timeoutMs: 15_000,
      what: "the refused viewer's signaling socket to close",
    });
    await first.agent.kill();
    // The same session (same state directory, within the grace period), now with a rule that refuses 127.0.0.3.
    const second = await startAgent(server.url, String(app.port), env, ['--inspect', 'false', '--deny-ip', REFUSED]);
    expect(second.url).toBe(first.url);
    await closed;
    expect(kept.readyState).toBe(WebSocket.OPEN);
    kept.terminate();
  });

  it("applies the rules of a `wingman start` tunnel's policy section", async () => {
    const server = await startServer();
    const file = join(dir, 'wingman.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: server.url,
        inspect: false,
        tunnels: { web: { target: String(app.port), policy: { allowIp: [`${ALLOWED}/32`], denyIp: [] } } },
      }),
    );
    const agent = startProcess(AGENT_BIN, ['start', '--config', file, '--json'], { WINGMAN_STATE_DIR: join(dir, 'state') });
    const ready = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web');
    const host = new URL(String(ready.url)).host;
    expect((await send(server.port, host, { path: '/hello', localAddress: ALLOWED })).status).toBe(200);
    expectAddressPage(await send(server.port, host, { path: '/hello', localAddress: REFUSED }), REFUSED, /only to certain networks/);
  });
});

describe('address rules that are not CIDRs', () => {
  async function usage(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const agent = startProcess(AGENT_BIN, args, { WINGMAN_STATE_DIR: join(dir, 'state') });
    const { code } = await agent.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS, what: 'wingman to exit on a usage error' });
    return { code, stderr: agent.stderr() };
  }

  it('stop `wingman http` before it connects, with exit code 2 and what to write instead', async () => {
    const hostBits = await usage(['http', String(app.port), '--allow-ip', '10.1.2.3/8']);
    expect(hostBits.code).toBe(2);
    expect(hostBits.stderr).toContain('invalid --allow-ip "10.1.2.3/8": 10.1.2.3 has bits set past the /8 prefix; did you mean 10.0.0.0/8?');
    const garbage = await usage(['http', String(app.port), '--deny-ip', '10.0.0.0/33']);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('invalid --deny-ip "10.0.0.0/33": expected an IPv4 or IPv6 address or CIDR');
  });

  it('stop `wingman start` naming the file, the tunnel and the field', async () => {
    const file = join(dir, 'wingman.json');
    writeFileSync(file, JSON.stringify({ tunnels: { web: { target: '3000', policy: { denyIp: ['2001:db8::/129'] } } } }));
    const bad = await usage(['start', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: tunnels.web.policy.denyIp: invalid --deny-ip "2001:db8::/129"`);
    writeFileSync(file, JSON.stringify({ tunnels: { web: { target: '3000', policy: { allowIP: ['10.0.0.0/8'] } } } }));
    const typo = await usage(['start', '--config', file]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('tunnels.web.policy: unknown key "allowIP" (did you mean "allowIp"?)');
  });
});
