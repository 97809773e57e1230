/**
 * The agent runs each P2P viewer's WebRTC peer in a child process of its own
 * (p2p/per-viewer-hosts.ts) because @roamhq/wrtc can crash its process
 * natively. Here such a child really dies of SIGSEGV, with its viewer
 * connected over P2P: the agent must live on, keep serving the same URL over
 * the relay, say what happened, and answer the next offer from another
 * process; another viewer's channel and its response in flight must not
 * notice. A viewer still negotiating when its process dies is told at once,
 * and its next offer gets P2P. Real processes,
 * real wrtc peers (the Node viewer in a child process of its own:
 * test/helpers/p2p-viewer-process.ts), loopback only.
 *
 * The other end can vanish too: a viewer whose tab or browser went without a
 * bye (its process killed here) closes its signaling socket with it, and the
 * agent reports a departure, not a failure of P2P.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { metricSum, send } from '../helpers/http-client';
import { closeViewersAndProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { until } from '../helpers/wait';
import { childPids, hostProcessPids, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(60_000);

let app: FixtureApp;
let t: Tunnel;

async function p2pGet(): Promise<{ viewer: ViewerProcess; transport: string | undefined; body: string }> {
  const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
  const r = await viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
  return { viewer, transport: r.header('x-wingman-transport'), body: r.body.toString() };
}

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(() => closeViewersAndProcesses(app));

describe('a native crash of a P2P host process', () => {
  /** The pid of the host process serving `viewerId`, from the agent's `peer` event. */
  async function hostOf(viewerId: string): Promise<number> {
    const connected = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewerId);
    expect(typeof connected.hostPid).toBe('number');
    return connected.hostPid as number;
  }

  it('leaves the agent serving the same URL over the relay, is reported, and the next offer gets P2P from another process', async () => {
    const first = await p2pGet();
    expect(first.transport).toBe('p2p');
    const host = await hostOf(first.viewer.viewerId);
    expect(childPids(t.agent.child.pid!)).toContain(host);

    process.kill(host, 'SIGSEGV');

    const closed = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed' && e.viewerId === first.viewer.viewerId);
    expect(String(closed.reason)).toContain('SIGSEGV');
    expect(t.agent.child.exitCode).toBeNull();
    expect(t.agent.child.signalCode).toBeNull();

    const relayed = await send(t.serverPort, t.host, { path: '/hello' });
    expect(relayed.status).toBe(200);
    expect(relayed.headers['x-wingman-transport']).toBe('relay');
    expect(relayed.body.toString()).toBe('hello GET');
    expect(t.agent.stderr()).toContain('WARN_P2P_HOST_CRASHED');

    // No restart to wait for: the next offer goes to a process of its own.
    const again = await p2pGet();
    expect(again).toMatchObject({ transport: 'p2p', body: 'hello GET' });
    expect(await hostOf(again.viewer.viewerId)).not.toBe(host);
  });

  it("ends only the crashed process's viewer: another viewer keeps its channel, and its response in flight ends over P2P", async () => {
    const a = await p2pGet();
    const b = await p2pGet();
    const [hostA, hostB] = [await hostOf(a.viewer.viewerId), await hostOf(b.viewer.viewerId)];
    expect(hostA).not.toBe(hostB);
    // B's event stream: its first event in, the second held by the app until released.
    const sse = await b.viewer.requestStreaming({ method: 'GET', target: '/sse', headers: [['host', t.host]] });
    expect(sse.header('x-wingman-transport')).toBe('p2p');
    expect((await sse.next())?.toString()).toBe('data: first\n\n');

    process.kill(hostA, 'SIGSEGV');
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed' && e.viewerId === a.viewer.viewerId && /SIGSEGV/.test(String(e.reason)));

    app.releaseSse();
    expect((await sse.bytes()).toString()).toBe('data: second\n\n');
    const later = await b.viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect({ transport: later.header('x-wingman-transport'), body: later.body.toString() }).toEqual({ transport: 'p2p', body: 'hello GET' });
    expect(t.agent.events.filter((e) => e.event === 'peer' && e.state !== 'connected' && e.viewerId === b.viewer.viewerId)).toEqual([]);
  });

  it('tells a viewer whose process died before answering its offer ERR_P2P_UNAVAILABLE at once, and its next offer gets P2P', async () => {
    // Before any viewer, the agent's only child is the spare that the first offer goes to (ready or not: it dies with a viewer).
    const [spare] = await until(
      () => {
        const pids = hostProcessPids(t.agent.child.pid!);
        return pids.length === 1 ? pids : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the spare P2P host process', observe: () => hostProcessPids(t.agent.child.pid!).join(',') },
    );
    // Frozen, it takes the offer into its IPC pipe and never answers it.
    process.kill(spare!, 'SIGSTOP');
    const before = await metricSum(t.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"');
    const pending = connectViewerProcess({ url: t.url, timeoutMs: 15_000 });
    try {
      await until(async () => (await metricSum(t.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"')) > before, {
        timeoutMs: 10_000,
        what: 'the offer to reach the agent',
      });
    } finally {
      process.kill(spare!, 'SIGKILL');
    }
    await expect(pending).rejects.toThrow(/ERR_P2P_UNAVAILABLE/);
    const r = await p2pGet();
    expect(r).toMatchObject({ transport: 'p2p', body: 'hello GET' });
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('ends with the agent (%s): no host process outlives it', async (signal) => {
    const { viewer } = await p2pGet();
    await hostOf(viewer.viewerId);
    const hosts = childPids(t.agent.child.pid!);
    expect(hosts.length).toBeGreaterThanOrEqual(1);
    // SIGKILL: the agent cannot say close; the hosts see their IPC channels drop.
    await t.agent.kill(signal);
    const alive = () =>
      hosts.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
    // The hosts are the agent's children, not ours: no exit event reaches us, so poll their pids.
    await until(() => alive().length === 0, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: `host processes ${hosts.join(',')} to end`,
      observe: () => alive().join(','),
    });
    expect(alive()).toEqual([]);
  });
});

describe('a P2P viewer that vanishes without a bye', () => {
  it('is reported by the agent as gone ("viewer left"), not as a P2P failure', async () => {
    const { viewer, transport } = await p2pGet();
    expect(transport).toBe('p2p');
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewer.viewerId);

    // The kernel closes its signaling socket: the tunnel server tells the agent the viewer left.
    process.kill(viewer.pid, 'SIGKILL');

    // Without that word, the agent's heartbeat (three PINGs of 5 s) or ICE ended the peer as 'failed' after ~15 s.
    const ended = await t.agent.waitFor((e) => e.event === 'peer' && e.state !== 'connected' && e.viewerId === viewer.viewerId, 30_000);
    expect({ state: ended.state, reason: ended.reason }).toEqual({ state: 'closed', reason: 'viewer left' });
  });
});
