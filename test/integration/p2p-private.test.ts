/**
 * A private session (`wingman http --private`, docs/PROTOCOL.md §Verified
 * channels) with real processes and a Node viewer (@roamhq/wrtc, in a child
 * process of its own: test/helpers/p2p-viewer-process.ts): it opens only to
 * the link (§Link access), the tunnel server relays nothing of it even then
 * (its own paths still answer), the agent
 * answers only offers MACed with the link key, a viewer holding the key
 * reaches the app over a verified channel, and through a path that rewrites
 * the signaling the app receives nothing at all.
 */
import { LINK_PATH, LINK_TOKEN_HEADER, splitLinkKey } from '@wingman/protocol';
import { linkTokenOf } from '../../packages/relay-server/src/agent/link-verifier';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, runWingmanFetch, startTunnel, type Tunnel } from '../helpers/processes';
import { startTamperingProxy } from '../helpers/tampering-proxy';
import { upgradeStatus } from '../helpers/viewer-client';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

let app: FixtureApp;
let t: Tunnel;

beforeAll(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--private', '--inspect', '0'] });
});

afterEach(async () => {
  await closeViewerProcesses();
});

afterAll(async () => {
  await killAll();
  await app.close();
});

/** The link's access token in its header. */
const linkToken = () => ({ [LINK_TOKEN_HEADER]: linkTokenOf(splitLinkKey(new URL(t.link).hash).key!) });

describe('wingman http --private', () => {
  it('gets nothing relayed: HTTP and WebSockets are refused with a page that says why; the app sees no request', async () => {
    // A private session opens only to the link (docs/PROTOCOL.md §Link access): the host alone gets nothing at all.
    expect((await send(t.serverPort, t.host, { path: '/__wingman/client.js' })).status).toBe(403);
    // With the link's token, still nothing of the app over the relay.
    const page = await send(t.serverPort, t.host, { path: '/hello', headers: { accept: 'text/html', ...linkToken() } });
    expect(page.status).toBe(403);
    expect(page.body.toString()).toContain('ERR_PRIVATE_SESSION');
    expect(page.body.toString()).toContain('This session is private');
    expect(await upgradeStatus(t.serverPort, t.host, '/ws', linkToken())).toBe(403);
    // Wingman's own paths still answer: the browser bundle.
    expect((await send(t.serverPort, t.host, { path: '/__wingman/client.js', headers: linkToken() })).status).toBe(200);
    expect(app.requested).toEqual([]);
  });

  it('refuses P2P to a viewer without the link key', async () => {
    // Past the server's link check (a cookie the token earned), the agent still wants the key's MACs.
    const exchange = await send(t.serverPort, t.host, { method: 'POST', path: LINK_PATH, headers: linkToken() });
    const cookie = (exchange.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('wingman_link='))!;
    await expect(connectViewerProcess({ url: t.url, cookie, timeoutMs: 10_000 })).rejects.toThrow(/ERR_LINK_KEY_REQUIRED/);
    expect(app.requested).toEqual([]);
  });

  it('gives the app nothing through a path that rewrites the signaling, with or without the MACs', async () => {
    for (const tampering of ['fingerprint', 'fingerprint-strip-mac'] as const) {
      const proxy = await startTamperingProxy(t.serverPort, tampering);
      try {
        await expect(connectViewerProcess({ url: proxy.via(t.link), timeoutMs: 4_000 })).rejects.toThrow();
        expect((await send(proxy.port, t.host, { path: '/hello' })).status).toBe(403);
      } finally {
        await proxy.close();
      }
    }
    expect(app.requested).toEqual([]);
  });

  it('serves a viewer holding the key over a verified channel, and wingman fetch with the link', async () => {
    const v = await connectViewerProcess({ url: t.link, timeoutMs: 15_000 });
    expect(v.facts?.verified).toBe(true);
    const r = await v.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect(`${r.status} ${r.header('x-wingman-transport')} ${r.body.toString()}`).toBe('200 p2p hello GET');
    const fetched = await runWingmanFetch([t.link.replace('/#', '/hello#')]);
    expect(fetched.out).toBe('hello GET');
    expect(fetched.err).toMatch(/via p2p[\s\S]*verified: the channel ends at the holder of the link key/);
    expect(app.requested).toEqual(['/hello', '/hello']);
    // The inspector marks each request that came over a verified channel.
    const ready = t.agent.events.find((e) => e.event === 'ready')!;
    const port = Number(new URL(String(ready.inspector)).port);
    type Listed = { requests?: Array<{ path: string; transport: string; verified?: boolean }> };
    const requests = await until(
      async () => {
        const listed = JSON.parse((await send(port, `127.0.0.1:${port}`, { path: '/api/requests' })).body.toString()) as Listed;
        return listed.requests?.length === 2 ? listed.requests : undefined;
      },
      { timeoutMs: 5_000, what: 'two requests in the inspector' },
    );
    expect(requests.map((r) => [r.path, r.transport, r.verified])).toEqual([
      ['/hello', 'p2p', true],
      ['/hello', 'p2p', true],
    ]);
  });

  it("leaves the server's relay counters at zero for the whole session", async () => {
    const metrics = (await send(t.serverPort, `localhost:${t.serverPort}`, { path: '/metrics' })).body.toString();
    expect(metrics).toMatch(/^wingman_p2p_successes_total [1-9]/m);
    expect(metrics).not.toMatch(/^wingman_relay_requests_total\{[^}]*\} [1-9]/m);
  });
});
