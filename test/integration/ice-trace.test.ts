/**
 * The P2P host's set-up timeline at debug level (`NODE_DEBUG=wingman-ice`,
 * p2p/ice-trace.ts): a real agent answers a Node viewer (@roamhq/wrtc, in a
 * child process of its own: test/helpers/p2p-viewer-process.ts) and
 * its stderr carries, for the viewer's peer connection, the offer, the
 * answer, its candidates, the connection's states and the first channel's
 * opening, in order and timed from the offer; without the switch, nothing.
 * Runs inside the loopback-only namespace `npm test` creates.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { until } from '../helpers/wait';

jest.setTimeout(60_000);

let fixture: FixtureApp | undefined;

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await fixture?.close();
  }
});

/** The viewer's set-up, as the agent's stderr tells it: each event of peer connection 0 with its time. */
function traced(t: Tunnel, viewerId: string): Array<{ ms: number; event: string }> {
  const out: Array<{ ms: number; event: string }> = [];
  for (const line of t.agent.stderr().split('\n')) {
    const m = new RegExp(`^WINGMAN-ICE \\d+: viewer ${viewerId} \\+(\\d+) ms (.+)$`).exec(line);
    if (m) out.push({ ms: Number(m[1]), event: m[2]! });
  }
  return out;
}

async function tunnelWithViewer(agentEnv: Record<string, string>): Promise<{ t: Tunnel; viewer: ViewerProcess }> {
  fixture = await startFixtureApp();
  const t = await startTunnel(String(fixture.port), { agentEnv });
  const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
  const r = await viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
  expect(`${r.status} ${r.body.toString()}`).toBe('200 hello GET');
  return { t, viewer };
}

describe('the P2P host set-up trace', () => {
  it('with NODE_DEBUG=wingman-ice, times each step of a peer connection from its offer', async () => {
    const { t, viewer } = await tunnelWithViewer({ NODE_DEBUG: 'wingman-ice' });
    const events = await until(
      () => {
        const e = traced(t, viewer.viewerId);
        return e.some((x) => x.event === 'data channel open') ? e : undefined;
      },
      { timeoutMs: 10_000, what: "the channel's opening in the agent's trace", observe: () => t.agent.stderr().slice(-2000) },
    );
    const names = events.map((e) => e.event);
    expect(names[0]).toMatch(/^offer \(\d+ candidates in it\)$/);
    expect(names).toContain('answer');
    expect(names).toContain('local candidate host udp');
    expect(names).toContain('connection connected');
    expect(names.indexOf('answer')).toBeLessThan(names.indexOf('connection connected'));
    // Handed to the relay link once MACed: the time between the two is the host's own.
    expect(names.indexOf('answer sent')).toBeGreaterThan(names.indexOf('answer'));
    expect(names.indexOf('connection connected')).toBeLessThanOrEqual(names.indexOf('data channel open'));
    // Timed from the offer, in order.
    const times = events.map((e) => e.ms);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('without the switch, the agent writes none of it', async () => {
    const { t } = await tunnelWithViewer({});
    expect(t.agent.stderr()).not.toMatch(/WINGMAN-ICE/);
  });
});
