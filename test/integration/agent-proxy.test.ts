/**
 * An agent behind the office proxy: its connection to the tunnel server goes
 * through a real HTTP CONNECT proxy (tinyproxy, with Basic credentials) or a
 * real SOCKS5 proxy (Dante, with or without a user name and password), chosen as curl chooses (`--proxy`, http_proxy,
 * ALL_PROXY, NO_PROXY). Each proxy connects out from its own loopback address,
 * so the server's log says where the agent's connection came from; and the
 * session serves the app over the relay. `wingman fetch` takes the same
 * decision: a session whose address rules let in only the proxy's address
 * answers it through the proxy, and refuses it direct; through an HTTP proxy
 * (CONNECT) and through socks5h:// the proxy is given the session's
 * *.localhost name, and resolves it itself (its own /etc/hosts names it).
 * The office behind a proxy, in network namespaces: agent-proxy-office.test.ts.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { HTTP_PROXY_EGRESS, SOCKS_PROXY_EGRESS, startHttpProxy, startSocksProxy, type ProxyServer } from '../helpers/proxies';
import { killAll, runWingmanFetch, startAgent, startProcess, AGENT_BIN, startServer, type Proc } from '../helpers/processes';
import { freePort } from '../helpers/redis';

jest.setTimeout(120_000);

/** A run of `wingman` expected to stop by itself must do so within this. */
const EXIT_TIMEOUT_MS = 20_000;
// tinyproxy takes letters, digits, '-', '.' and '_' in BasicAuth credentials.
const AUTH = { user: 'alice', password: 'op3n-s.esame' };
/** The credentials as a proxy URL carries them (percent-encoded). */
const CREDENTIALS = `${AUTH.user}:${encodeURIComponent(AUTH.password)}`;
/** Dante's RFC 1929 credentials: a password with characters a URL must percent-encode. */
const SOCKS_AUTH = { user: 'carol', password: 'p@ss:w0rd%/x' };
const SOCKS_CREDENTIALS = `${SOCKS_AUTH.user}:${encodeURIComponent(SOCKS_AUTH.password)}`;

let app: FixtureApp;
let proxies: ProxyServer[] = [];

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
  await app.close();
});

/** A tunnel server that logs where each agent connected from. */
const startLoggingServer = () => startServer({ LOG_LEVEL: 'info' });

/** Resolves with the address the server saw the agent connect from. */
async function agentAddressSeenBy(server: Proc): Promise<string> {
  const line = await server.waitForLine(/"msg":"agent connected"/, { stream: 'stderr', timeoutMs: 10_000, what: 'the server to log the agent' });
  return String((JSON.parse(String(line)) as { remoteAddress: string }).remoteAddress);
}

async function expectServed(port: number, url: string): Promise<void> {
  const r = await send(port, new URL(url).host, { path: '/hello' });
  expect(r.body.toString()).toBe('hello GET');
  expect(r.headers['x-wingman-transport']).toBe('relay');
}

describe('the agent behind a proxy', () => {
  it('connects through an HTTP proxy with credentials from http_proxy, says so, and serves the app', async () => {
    const server = await startLoggingServer();
    const proxy = await startHttpProxy({ connectPort: server.port, auth: AUTH });
    proxies.push(proxy);
    const t = await startAgent(server.url, String(app.port), { http_proxy: `http://${CREDENTIALS}@127.0.0.1:${proxy.port}` });
    expect(await agentAddressSeenBy(server.server)).toBe(HTTP_PROXY_EGRESS);
    const ready = t.agent.events.find((e) => e.event === 'ready')!;
    // The password never shows.
    expect(ready.proxy).toBe(`http://${AUTH.user}:***@127.0.0.1:${proxy.port}`);
    await expectServed(server.port, t.url);
  });

  /** Runs an agent through `proxy` expected to stop by itself: its `fatal` event. */
  async function fatalThrough(serverUrl: string, proxy: string): Promise<{ code: unknown; message: string; output: string }> {
    const agent = startProcess(AGENT_BIN, ['http', String(app.port), '--server', serverUrl, '--json', '--proxy', proxy]);
    const { code } = await agent.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS, what: 'wingman to stop on a refusal by the proxy' });
    expect(code).toBe(1);
    const fatal = agent.events.find((e) => e.event === 'fatal')!;
    return { code: fatal.code, message: String(fatal.message), output: agent.stderr() + JSON.stringify(agent.events) };
  }

  it('stops with ERR_PROXY_REFUSED when the HTTP proxy refuses its credentials, or wants some', async () => {
    const server = await startLoggingServer();
    const proxy = await startHttpProxy({ connectPort: server.port, auth: AUTH });
    proxies.push(proxy);
    const wrong = await fatalThrough(server.url, `http://${AUTH.user}:wrong@127.0.0.1:${proxy.port}`);
    expect(wrong.code).toBe('ERR_PROXY_REFUSED');
    expect(wrong.message).toContain(`the proxy at http://${AUTH.user}:***@127.0.0.1:${proxy.port} refused its credentials (HTTP 401)`);
    expect(wrong.output).not.toContain('wrong@');
    const none = await fatalThrough(server.url, `http://127.0.0.1:${proxy.port}`);
    expect(none.code).toBe('ERR_PROXY_REFUSED');
    expect(none.message).toContain('refused its credentials (HTTP 407)');
  });

  it("stops with ERR_PROXY_REFUSED when the proxy's rules forbid the server's port", async () => {
    const server = await startLoggingServer();
    const proxy = await startHttpProxy({ connectPort: 443 });
    proxies.push(proxy);
    const refused = await fatalThrough(server.url, `http://127.0.0.1:${proxy.port}`);
    expect(refused.code).toBe('ERR_PROXY_REFUSED');
    expect(refused.message).toContain(`refused to connect to the tunnel server at ${new URL(server.url).host} (HTTP 403)`);
  });

  it('connects through a SOCKS5 proxy given with --proxy, and through one in ALL_PROXY', async () => {
    const server = await startLoggingServer();
    const socks = await startSocksProxy();
    proxies.push(socks);
    const flagged = await startAgent(server.url, String(app.port), {}, ['--proxy', `socks5://127.0.0.1:${socks.port}`, '--new-session']);
    expect(await agentAddressSeenBy(server.server)).toBe(SOCKS_PROXY_EGRESS);
    await expectServed(server.port, flagged.url);
    await flagged.agent.kill();

    const other = await startLoggingServer();
    const fromEnv = await startAgent(other.url, String(app.port), { ALL_PROXY: `socks5h://127.0.0.1:${socks.port}` }, ['--new-session']);
    expect(await agentAddressSeenBy(other.server)).toBe(SOCKS_PROXY_EGRESS);
    await expectServed(other.port, fromEnv.url);
  });

  it('connects through a SOCKS5 proxy that wants a user name and password (RFC 1929), given in ALL_PROXY', async () => {
    const server = await startLoggingServer();
    const socks = await startSocksProxy({ auth: SOCKS_AUTH });
    proxies.push(socks);
    const t = await startAgent(server.url, String(app.port), { ALL_PROXY: `socks5://${SOCKS_CREDENTIALS}@127.0.0.1:${socks.port}` });
    expect(await agentAddressSeenBy(server.server)).toBe(SOCKS_PROXY_EGRESS);
    expect(t.agent.events.find((e) => e.event === 'ready')!.proxy).toBe(`socks5://${SOCKS_AUTH.user}:***@127.0.0.1:${socks.port}`);
    await expectServed(server.port, t.url);
  });

  it('stops with ERR_PROXY_REFUSED when the SOCKS5 proxy refuses its credentials, or wants some', async () => {
    const server = await startLoggingServer();
    const socks = await startSocksProxy({ auth: SOCKS_AUTH });
    proxies.push(socks);
    const wrong = await fatalThrough(server.url, `socks5://${SOCKS_AUTH.user}:wrong@127.0.0.1:${socks.port}`);
    expect(wrong.code).toBe('ERR_PROXY_REFUSED');
    expect(wrong.message).toContain(`the SOCKS proxy at socks5://${SOCKS_AUTH.user}:***@127.0.0.1:${socks.port} refused its credentials`);
    expect(wrong.output).not.toContain('wrong@');
    const none = await fatalThrough(server.url, `socks5://127.0.0.1:${socks.port}`);
    expect(none.code).toBe('ERR_PROXY_REFUSED');
    expect(none.message).toContain(`the SOCKS proxy at socks5://127.0.0.1:${socks.port} wants a user name and password`);
  });

  it('goes direct for a server NO_PROXY names, and ignores HTTP_PROXY in capitals for an http:// server, as curl does', async () => {
    const server = await startLoggingServer();
    const proxy = await startHttpProxy({ connectPort: server.port });
    proxies.push(proxy);
    // The same variable without NO_PROXY goes through the proxy.
    const proxied = await startAgent(server.url, String(app.port), { http_proxy: `http://127.0.0.1:${proxy.port}` });
    expect(await agentAddressSeenBy(server.server)).toBe(HTTP_PROXY_EGRESS);
    await proxied.agent.kill();

    const direct = await startLoggingServer();
    const exempt = await startAgent(direct.url, String(app.port), { http_proxy: `http://127.0.0.1:${proxy.port}`, NO_PROXY: 'example.com, localhost' });
    expect(await agentAddressSeenBy(direct.server)).toBe('127.0.0.1');
    expect(exempt.agent.events.find((e) => e.event === 'ready')!.proxy).toBeUndefined();
    await exempt.agent.kill();

    const other = await startLoggingServer();
    const capitals = await startAgent(other.url, String(app.port), { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` });
    expect(await agentAddressSeenBy(other.server)).toBe('127.0.0.1');
    await expectServed(other.port, capitals.url);
  });

  it('says the proxy cannot be reached, naming it, and keeps retrying', async () => {
    const server = await startLoggingServer();
    const nothing = await freePort();
    const agent = startProcess(AGENT_BIN, ['http', String(app.port), '--server', server.url, '--json', '--proxy', `127.0.0.1:${nothing}`]);
    const line = await agent.waitForLine(/cannot reach the proxy/, { stream: 'stderr', timeoutMs: 10_000, what: 'the agent to name the unreachable proxy' });
    expect(String(line)).toContain(`cannot reach the proxy at http://127.0.0.1:${nothing}: connection refused`);
    expect(String(line)).toContain('"event":"reconnecting"');
  });

  it('refuses a proxy URL it cannot use before connecting (exit 2)', async () => {
    const agent = startProcess(AGENT_BIN, ['http', String(app.port), '--proxy', 'ftp://proxy:21']);
    expect((await agent.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS, what: 'wingman to stop on a bad --proxy' })).code).toBe(2);
    expect(agent.stderr()).toContain('invalid --proxy: scheme ftp: is not a proxy scheme');
  });
});

describe('wingman fetch behind a proxy', () => {
  it("takes the agent's decision: signaling and the relay through the SOCKS5 proxy in ALL_PROXY, direct when NO_PROXY names the server", async () => {
    const server = await startServer();
    const socks = await startSocksProxy({ auth: SOCKS_AUTH });
    proxies.push(socks);
    // Only the proxy's address gets into the session: a fetch that did not go through it gets a 403.
    const t = await startAgent(server.url, String(app.port), {}, ['--allow-ip', `${SOCKS_PROXY_EGRESS}/32`]);
    const link = new URL(t.link);
    link.pathname = '/hello';
    const proxied = { ALL_PROXY: `socks5://${SOCKS_CREDENTIALS}@127.0.0.1:${socks.port}` };

    const relayed = await runWingmanFetch(['--relay-only', link.href], proxied);
    expect(relayed.err).toContain(`through the proxy socks5://${SOCKS_AUTH.user}:***@127.0.0.1:${socks.port} (ALL_PROXY)`);
    expect(relayed.err).toContain('200 via relay');
    expect(relayed.out).toBe('hello GET');
    expect(relayed.code).toBe(0);
    // Signaling goes through the proxy too, so P2P works from behind it.
    const p2p = await runWingmanFetch([link.href], proxied);
    expect(p2p.err).toContain('200 via p2p');
    expect(p2p.out).toBe('hello GET');

    for (const env of [{}, { ...proxied, NO_PROXY: 'localhost' }]) {
      const direct = await runWingmanFetch(['--relay-only', link.href], env);
      expect(direct.err).not.toContain('through the proxy');
      expect(direct.err).toContain('403 via');
      expect(direct.code).toBe(1);
    }

    const wrong = await runWingmanFetch(['--relay-only', '--proxy', `socks5://${SOCKS_AUTH.user}:wrong@127.0.0.1:${socks.port}`, link.href]);
    expect(wrong.err).toContain(`the SOCKS proxy at socks5://${SOCKS_AUTH.user}:***@127.0.0.1:${socks.port} refused its credentials`);
    expect(wrong.code).toBe(1);
  });

  /** A session only `egress` gets into, and its /hello on the session's *.localhost name. */
  async function sessionFor(egress: string): Promise<URL> {
    const server = await startServer();
    const t = await startAgent(server.url, String(app.port), {}, ['--allow-ip', `${egress}/32`, '--new-session']);
    const link = new URL(t.link);
    link.pathname = '/hello';
    expect(link.hostname).toMatch(/^[a-z2-7]+\.localhost$/);
    return link;
  }

  /** `wingman fetch` of `link` with `env`, over the relay and then P2P: both served through the proxy. */
  async function fetchBothWays(link: URL, env: Record<string, string>, shown: string): Promise<void> {
    const relayed = await runWingmanFetch(['--relay-only', link.href], env);
    expect(relayed.err).toContain(`through the proxy ${shown}`);
    expect(relayed.err).toContain('200 via relay');
    expect(relayed.out).toBe('hello GET');
    const p2p = await runWingmanFetch([link.href], env);
    expect(p2p.err).toContain('200 via p2p');
    expect(p2p.out).toBe('hello GET');
  }

  it("goes through an HTTP proxy by CONNECT to the session's *.localhost name, which the proxy resolves", async () => {
    const link = await sessionFor(HTTP_PROXY_EGRESS);
    const proxy = await startHttpProxy({ connectPort: Number(link.port), auth: AUTH, hosts: { [link.hostname]: '127.0.0.1' } });
    proxies.push(proxy);
    const env = { http_proxy: `http://${CREDENTIALS}@127.0.0.1:${proxy.port}` };
    await fetchBothWays(link, env, `http://${AUTH.user}:***@127.0.0.1:${proxy.port} (http_proxy)`);
    expect(proxy.log()).toContain(`CONNECT ${link.host}`);
  });

  it("gives a socks5h:// proxy the session's *.localhost name to resolve, not an address", async () => {
    const link = await sessionFor(SOCKS_PROXY_EGRESS);
    // A proxy that cannot resolve the name: socks5h:// fails there, socks5:// (resolved here) does not.
    const blind = await startSocksProxy();
    proxies.push(blind);
    const unresolved = await runWingmanFetch(['--relay-only', link.href], { ALL_PROXY: `socks5h://127.0.0.1:${blind.port}` });
    expect(unresolved.err).toContain(
      `the SOCKS proxy at socks5h://127.0.0.1:${blind.port} did not connect to the server: Socks5 proxy rejected connection - HostUnreachable`,
    );
    expect(unresolved.code).toBe(1);
    const resolvedHere = await runWingmanFetch(['--relay-only', link.href], { ALL_PROXY: `socks5://127.0.0.1:${blind.port}` });
    expect(resolvedHere.err).toContain('200 via relay');

    const socks = await startSocksProxy({ hosts: { [link.hostname]: '127.0.0.1' } });
    proxies.push(socks);
    await fetchBothWays(link, { ALL_PROXY: `socks5h://127.0.0.1:${socks.port}` }, `socks5h://127.0.0.1:${socks.port} (ALL_PROXY)`);
  });
});
