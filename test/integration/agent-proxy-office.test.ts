/**
 * The agent in an office whose only way out is its proxy, for real: network
 * namespaces (test/helpers/office-network.ts; root), the tunnel server on
 * HTTPS on the internet side, tinyproxy (Basic credentials) and Dante on the
 * office's proxy host, which does not forward. The developer's `wingman http`
 * reaches the server only through the HTTP proxy, and says what that means
 * for P2P; a reviewer elsewhere gets the app over the relay (WebRTC has no
 * path into the office); a colleague on the developer's LAN, whose signaling
 * goes through the SOCKS proxy as the agent's goes through the HTTP one,
 * gets a P2P channel between the two hosts' own addresses. Both viewers are
 * real Node viewers in processes of their own (`wingman fetch`, the P2P viewer process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOffice, OFFICE_IP, OFFICE_LAN, type Office } from '../helpers/office-network';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, AGENT_BIN, ROOT, runWingmanFetch, SERVER_BIN, startProcessIn, type Proc } from '../helpers/processes';
import { startHttpProxy, startSocksProxy, type ProxyPlace, type ProxyServer } from '../helpers/proxies';
import { createTestCa, type TestCa } from '../helpers/test-ca';

jest.setTimeout(120_000);

const DOMAIN = 'tunnel.wingman.test';
const SESSION_HOST = `office.${DOMAIN}`;
const TOKEN = 'office-agent-token-01';
/** The office proxy's ports, as squid's and Dante's defaults are. */
const HTTP_PROXY_PORT = 3128;
const SOCKS_PORT = 1080;
const AUTH = { user: 'alice', password: 'op3n-s.esame' };
const PROXY_URL = `http://${AUTH.user}:${encodeURIComponent(AUTH.password)}@${OFFICE_IP.proxyLan}:${HTTP_PROXY_PORT}`;
const SHOWN_PROXY = `http://${AUTH.user}:***@${OFFICE_IP.proxyLan}:${HTTP_PROXY_PORT}`;
const FIXTURE_APP = join(ROOT, 'scripts/lab/fixture-app.mjs');
/** The outside reviewer's wait for P2P before it takes the relay, ms. */
const OUTSIDE_P2P_TIMEOUT_MS = 3_000;

let office: Office | undefined;
let ca: TestCa | undefined;
let stateDir: string | undefined;
const proxies: ProxyServer[] = [];
let server: Proc;
let agent: Proc;
/** The link the agent's banner shares (with its key), and its /api/hello. */
let link: URL;
let hello: URL;
let socks: ProxyServer;
let httpProxy: ProxyServer;

/** The app's answer to /api/hello, as lab-routes.mjs gives it. */
const HELLO = JSON.stringify({ hello: 'lab', host: '' });

beforeAll(async () => {
  office = buildOffice({ [DOMAIN]: OFFICE_IP.server, [SESSION_HOST]: OFFICE_IP.server });
  const { ns } = office;
  ca = createTestCa();
  const cert = ca.issue('office-server', { serialHex: '0ff1ce', altNames: [`DNS:${DOMAIN}`, `DNS:*.${DOMAIN}`, `IP:${OFFICE_IP.server}`] });
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-office-'));
  const trustCa = { NODE_EXTRA_CA_CERTS: ca.caFile };

  server = startProcessIn(
    ns.internet,
    SERVER_BIN,
    ['--host', OFFICE_IP.server, '--port', '443', '--public-url', `https://${DOMAIN}`, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--json'],
    { LOG_LEVEL: 'info', WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1', WINGMAN_TOKENS: TOKEN, WINGMAN_SERVER_STATE_DIR: join(stateDir, 'server') },
  );
  await server.waitForEvent('listening');
  const place = (port: number): ProxyPlace => ({ netns: ns.proxy, listen: OFFICE_IP.proxyLan, port, clients: OFFICE_LAN, egress: OFFICE_IP.proxyWan });
  httpProxy = await startHttpProxy({ connectPort: 443, auth: AUTH, place: place(HTTP_PROXY_PORT) });
  proxies.push(httpProxy);
  socks = await startSocksProxy({ place: place(SOCKS_PORT) });
  proxies.push(socks);

  const app = startProcessIn(ns.dev, FIXTURE_APP, ['127.0.0.1']);
  const appPort = Number((await app.waitForEvent('listening')).port);
  // The human banner (no --json): what the developer reads.
  agent = startProcessIn(
    ns.dev,
    AGENT_BIN,
    ['http', String(appPort), '--server', `https://${DOMAIN}`, '--token', TOKEN, '--name', 'office', '--inspect', 'false', '--no-qr', '--no-tui'],
    { HTTPS_PROXY: PROXY_URL, ...trustCa, WINGMAN_STATE_DIR: join(stateDir, 'agent') },
  );
  await agent.waitForLine(/Ctrl\+C to stop\./, { stream: 'stdout', timeoutMs: 30_000, what: "the agent's banner" });
  const shared = /https:\/\/office\.tunnel\.wingman\.test\/#k=\S+/.exec(agent.stdoutLines().join('\n'));
  if (!shared) throw new Error(`no link in the banner:\n${agent.stdoutLines().join('\n')}`);
  link = new URL(shared[0]);
  hello = new URL(link);
  hello.pathname = '/api/hello';
});

afterAll(async () => {
  let problems: string[] = [];
  try {
    try {
      await closeViewerProcesses();
    } finally {
      await killAll();
      await Promise.all(proxies.map((p) => p.stop()));
    }
  } finally {
    // Whatever failed above: every namespace goes, by name, with anything still running in it.
    problems = office?.destroy() ?? [];
    ca?.remove();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`the office's namespaces did not all go: ${problems.join('; ')}`);
});

/** The app's /api/hello answer without the Host it saw (that differs by path). */
const helloOf = (body: string) => JSON.stringify({ ...(JSON.parse(body) as object), host: '' });

describe('an agent whose only way out is the office proxy', () => {
  it('reaches the tunnel server through the HTTP proxy only, and its banner says what goes through it', async () => {
    const connected = await server.waitForLine(/"msg":"agent connected"/, { stream: 'stderr', what: 'the server to log the agent' });
    expect((JSON.parse(connected) as { remoteAddress: string }).remoteAddress).toBe(OFFICE_IP.proxyWan);
    // The developer's host resolves no name (it gives them to the proxy) and has no route to the server's address.
    const direct = await runWingmanFetch(['--relay-only', '--proxy', '', `https://${OFFICE_IP.server}/`], { NODE_EXTRA_CA_CERTS: ca!.caFile }, office!.ns.dev);
    expect(direct.err).toContain(`cannot reach the server at https://${OFFICE_IP.server} (ENETUNREACH)`);
    expect(direct.code).toBe(1);

    const banner = agent.stdoutLines().join('\n');
    expect(banner).toContain('(peer-to-peer when possible, relay otherwise)');
    expect(banner).toContain(
      `connected through the proxy ${SHOWN_PROXY}: signaling and the relay go through it, WebRTC does not (no TURN through a proxy): P2P only where WebRTC finds a way of its own (a viewer on this LAN, a network that lets UDP out), else viewers use the relay\n`,
    );
    expect(httpProxy.log()).toContain(`CONNECT ${DOMAIN}:443`);
  });

  it('serves a reviewer elsewhere over the relay: WebRTC finds no path into the office', async () => {
    const r = await runWingmanFetch(['--timeout', String(OUTSIDE_P2P_TIMEOUT_MS), hello.href], { NODE_EXTRA_CA_CERTS: ca!.caFile }, office!.ns.outside);
    expect(r.err).toContain('wingman fetch: P2P unavailable');
    expect(r.err).toContain('200 via relay');
    expect(helloOf(r.out)).toBe(HELLO);
    expect(r.code).toBe(0);
  });

  it('gives a colleague on its LAN, signaling through the SOCKS proxy, a P2P channel between the two hosts', async () => {
    const viewer = await connectViewerProcess(
      { url: link.href, proxy: `socks5h://${OFFICE_IP.proxyLan}:${SOCKS_PORT}`, timeoutMs: 15_000 },
      { netns: office!.ns.colleague, env: { NODE_EXTRA_CA_CERTS: ca!.caFile } },
    );
    expect(viewer.facts!.verified).toBe(true);
    const r = await viewer.request({ target: '/api/hello', headers: [['host', SESSION_HOST]] });
    expect(r.status).toBe(200);
    expect(helloOf(r.body.toString())).toBe(HELLO);

    const pair = await viewer.selectedPair();
    expect(pair?.local).toMatchObject({ type: 'host', protocol: 'udp', address: OFFICE_IP.colleague });
    // The agent's host address, from its candidate or, if a check came first, as a peer-reflexive one.
    expect(pair?.remote).toMatchObject({ protocol: 'udp', address: OFFICE_IP.dev });
    expect(['host', 'prflx']).toContain(pair?.remote.type);
    // The colleague's host resolves no name: the proxy resolved the session's, and connected to the server for it.
    // Dante's line: `tcp/connect [: <client>.<port> <proxy>.1080 -> <egress>.<port> <destination>.<port>`.
    const connects = socks
      .log()
      .split('\n')
      .filter((l) => l.includes('tcp/connect'));
    expect(connects.find((l) => l.includes(`: ${OFFICE_IP.colleague}.`) && l.endsWith(` ${OFFICE_IP.server}.443`))).toBeDefined();
    await agent.waitForLine(/viewer \S+\s+connected peer-to-peer in \d+ ms/, { stream: 'stdout', what: 'the agent to report the P2P channel' });
  });
});
