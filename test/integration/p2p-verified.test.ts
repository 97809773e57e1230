/**
 * Verified channels between a Node viewer (@roamhq/wrtc, in a child process
 * of its own: test/helpers/p2p-viewer-process.ts) and the agent process, signaled through the real tunnel server process
 * (docs/PROTOCOL.md §Verified channels): the link's key makes the channel
 * verified; a link without it still connects, unverified; a tunnel server
 * path that rewrites the DTLS fingerprints in the relayed SDP (with or
 * without the senders' MACs) gets no channel at all, and the agent says so
 * (also when only the MACs of the offer went missing and the candidates kept theirs).
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess, type ViewerFacts, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, runWingmanFetch, startTunnel, type Tunnel } from '../helpers/processes';
import { startTamperingProxy, type TamperingProxy } from '../helpers/tampering-proxy';
import { until } from '../helpers/wait';

jest.setTimeout(120_000);

let app: FixtureApp;
let t: Tunnel;
let proxy: TamperingProxy | undefined;

/** A connected viewer process and its facts. */
async function viewer(url: string, timeoutMs = 15_000): Promise<ViewerFacts & { process: ViewerProcess }> {
  const v = await connectViewerProcess({ url, timeoutMs });
  return { ...v.facts!, process: v };
}

async function hello(v: { process: ViewerProcess }): Promise<string> {
  const r = await v.process.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
  return `${r.status} ${r.header('x-wingman-transport')} ${r.body.toString()}`;
}

beforeAll(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await proxy?.close();
    proxy = undefined;
  }
});

afterAll(async () => {
  await killAll();
  await app.close();
});

describe('verified P2P channels (real wrtc peers, real processes)', () => {
  it('prints the link with a 128-bit key in its fragment, beside the bare URL', () => {
    expect(t.link).toMatch(/^http:\/\/[a-z2-7]{26}\.localhost:\d+\/#k=[A-Za-z0-9_-]{22}$/);
    expect(t.link.startsWith(t.url)).toBe(true);
  });

  it('verifies the channel of a viewer holding the key: both ends say so, with the fingerprints the binding covered', async () => {
    const v = await viewer(t.link);
    expect(v.verified).toBe(true);
    expect(v.fingerprints?.agent).toMatch(/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(v.fingerprints?.viewer).not.toBe(v.fingerprints?.agent);
    expect(await hello(v)).toBe('200 p2p hello GET');
    await t.agent.waitFor((e) => e.event === 'peer' && e.viewerId === v.viewerId && e.state === 'connected' && e.verified === true);
  });

  it('still connects a viewer without the key, unverified', async () => {
    const v = await viewer(t.url);
    expect(v.verified).toBe(false);
    expect(await hello(v)).toBe('200 p2p hello GET');
    await t.agent.waitFor((e) => e.event === 'peer' && e.viewerId === v.viewerId && e.state === 'connected' && e.verified === false);
  });

  it('verifies through a proxy that passes signaling unchanged (the control for the tampering cases)', async () => {
    proxy = await startTamperingProxy(t.serverPort, 'none');
    const v = await viewer(proxy.via(t.link));
    expect(v.verified).toBe(true);
    expect(await hello(v)).toBe('200 p2p hello GET');
  });

  it('gets no channel when the path rewrites the fingerprints and keeps the MACs: the agent drops the offer and warns', async () => {
    proxy = await startTamperingProxy(t.serverPort, 'fingerprint');
    await expect(viewer(proxy.via(t.link), 5_000)).rejects.toThrow(/no data channel within 5000 ms/);
    expect(proxy.rewritten).toBeGreaterThanOrEqual(1);
    // The agent's warnings are JSON lines on stderr.
    const warning = /"code":"WARN_UNTRUSTED_SIGNAL","message":"refused a signaling message \(a wrong MAC on the offer\)/;
    await until(() => warning.test(t.agent.stderr()) || undefined, { timeoutMs: 5_000, what: 'the agent to warn about the offer' });
  });

  it('gets no channel when the path rewrites the fingerprints and strips the MACs: the viewer drops the unsigned answer, and the agent warns', async () => {
    proxy = await startTamperingProxy(t.serverPort, 'fingerprint-strip-mac');
    await expect(viewer(proxy.via(t.link), 5_000)).rejects.toThrow(/signaling message\(s\) dropped for a missing or wrong MAC/);
    expect(proxy.rewritten).toBeGreaterThanOrEqual(2);
    // The viewer's candidates still carry their MACs: it holds the key, so its offer lost one on the way.
    const warning =
      /"code":"WARN_UNTRUSTED_SIGNAL","message":"refused a signaling message \(a MAC on (a candidate|the end-of-candidates) of a viewer whose offer came without one\)/;
    await until(() => warning.test(t.agent.stderr()) || undefined, { timeoutMs: 5_000, what: 'the agent to warn about the offer without its MAC' });
  });

  it('wingman fetch verifies with the link and says so; without the key it says unverified', async () => {
    const keyed = await runWingmanFetch([t.link.replace('/#', '/hello#'), '--p2p-only']);
    expect(keyed.out).toBe('hello GET');
    expect(keyed.err).toMatch(/verified: the channel ends at the holder of the link key \(agent [0-9A-F:]{23}…, this viewer [0-9A-F:]{23}…\)/);
    const bare = await runWingmanFetch([`${t.url}hello`, '--p2p-only']);
    expect(bare.out).toBe('hello GET');
    expect(bare.err).toMatch(/unverified: the link has no key/);
  });
});
