/**
 * The agent runs its WebRTC peers in a child process (p2p/isolated-peer-host.ts)
 * because @roamhq/wrtc can crash its process natively. Here that child really
 * dies of SIGSEGV, with a viewer connected over P2P: the agent must live on,
 * keep serving the same URL over the relay, say what happened, and offer P2P
 * again from a restarted host. A viewer still negotiating when the host dies,
 * or offering while it restarts, is answered by the next host. Real processes,
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
import { childPids, startTunnel, type Tunnel } from '../helpers/processes';

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

describe('a native crash of the P2P host process', () => {
  it('leaves the agent serving the same URL over the relay, is reported, and P2P returns from a restarted host', async () => {
    const first = await p2pGet();
    expect(first.transport).toBe('p2p');
    const agentPid = t.agent.child.pid!;
    const hosts = childPids(agentPid);
    expect(hosts).toHaveLength(1);

    process.kill(hosts[0]!, 'SIGSEGV');

    const closed = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed' && e.viewerId === first.viewer.viewerId);
    expect(String(closed.reason)).toContain('SIGSEGV');
    expect(t.agent.child.exitCode).toBeNull();
    expect(t.agent.child.signalCode).toBeNull();

    const relayed = await send(t.serverPort, t.host, { path: '/hello' });
    expect(relayed.status).toBe(200);
    expect(relayed.headers['x-wingman-transport']).toBe('relay');
    expect(relayed.body.toString()).toBe('hello GET');
    expect(t.agent.stderr()).toContain('WARN_P2P_HOST_CRASHED');

    // Restarted after HOST_RESTART_BASE_MS; a viewer that offers now gets P2P again (or a coded refusal while it restarts).
    // Nothing announces the restart: retry the P2P request (until() reports the last error).
    const again = await until(() => p2pGet(), { timeoutMs: 20_000, intervalMs: 250, what: 'a P2P answer after the host restart' });
    expect(again.transport).toBe('p2p');
    expect(again.body).toBe('hello GET');
    const restarted = childPids(agentPid);
    expect(restarted).toHaveLength(1);
    expect(restarted[0]).not.toBe(hosts[0]);
  });

  /** The one host process of the agent, once it is up (a new one after a restart: not `other`). */
  async function hostPid(other?: number): Promise<number> {
    const pids = await until(
      () => {
        const now = childPids(t.agent.child.pid!);
        return now.length === 1 && now[0] !== other ? now : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the P2P host process', observe: () => childPids(t.agent.child.pid!).join(',') },
    );
    return pids[0]!;
  }

  it('answers an offer made while the host restarts from the restarted host, without a refusal', async () => {
    const first = await hostPid();
    process.kill(first, 'SIGSEGV');
    // A second crash in a row: the restart comes 1 s later, so the offer below surely finds the host down.
    process.kill(await hostPid(first), 'SIGSEGV');
    await until(() => (t.agent.stderr().match(/WARN_P2P_HOST_CRASHED/g) ?? []).length >= 2, { timeoutMs: 10_000, what: 'two crash reports' });
    expect(childPids(t.agent.child.pid!)).toHaveLength(0);
    const r = await p2pGet();
    expect(r).toMatchObject({ transport: 'p2p', body: 'hello GET' });
  });

  it('hands an offer the host had not answered when it died to the next host', async () => {
    await p2pGet();
    const host = await hostPid();
    // Frozen, the host takes the offer into its IPC pipe and never answers it.
    process.kill(host, 'SIGSTOP');
    const before = await metricSum(t.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"');
    const pending = connectViewerProcess({ url: t.url, timeoutMs: 15_000 });
    try {
      await until(async () => (await metricSum(t.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"')) > before, {
        timeoutMs: 10_000,
        what: 'the offer to reach the agent',
      });
    } finally {
      process.kill(host, 'SIGKILL');
    }
    const viewer = await pending;
    const r = await viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect({ transport: r.header('x-wingman-transport'), body: r.body.toString() }).toEqual({ transport: 'p2p', body: 'hello GET' });
    expect(await hostPid(host)).not.toBe(host);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('ends with the agent (%s): no host process outlives it', async (signal) => {
    await p2pGet();
    const hosts = childPids(t.agent.child.pid!);
    expect(hosts).toHaveLength(1);
    // SIGKILL: the agent cannot say close; the host sees its IPC channel drop.
    await t.agent.kill(signal);
    const alive = () => {
      try {
        process.kill(hosts[0]!, 0);
        return true;
      } catch {
        return false;
      }
    };
    // The host is the agent's child, not ours: no exit event reaches us, so poll its pid.
    await until(() => !alive(), { timeoutMs: 10_000, intervalMs: 100, what: `host process ${hosts[0]} to end` });
    expect(alive()).toBe(false);
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
