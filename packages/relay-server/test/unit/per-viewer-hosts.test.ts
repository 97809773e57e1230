/**
 * A P2P host process that cannot even be spawned (here: a Node executable
 * that does not exist) emits 'error' and never 'exit': the agent must treat
 * it as a failed start, report it, try again with a growing delay (not in a
 * loop), and refuse offers meanwhile with a coded error, not leave them
 * waiting.
 */
import type { HostCrash, IsolatedPeerHostOptions } from '../../src/p2p/isolated-peer-host';
import type { PeerHost } from '../../src/p2p/peer-host';
import { createPerViewerHosts } from '../../src/p2p/per-viewer-hosts';
import { until } from '../../../../test/helpers/wait';

const init: IsolatedPeerHostOptions['init'] = {
  forward: { target: { host: '127.0.0.1', port: 1 }, hostHeader: 'rewrite' },
  iceServers: [],
  connectTimeoutMs: 1_000,
};

let host: PeerHost | undefined;
afterEach(() => host?.close());

describe('P2P host processes that fail to spawn', () => {
  it('are reported as failed starts with the spawn error, tried again 0.5 s and then 1 s later, and offers meanwhile get ERR_P2P_UNAVAILABLE', async () => {
    const crashes: Array<HostCrash & { at: number }> = [];
    const sent: Array<{ viewerId: string; message: unknown }> = [];
    host = createPerViewerHosts({
      init,
      execPath: '/nonexistent/wingman-test/node',
      sendSignal: (viewerId, message) => sent.push({ viewerId, message }),
      onCrash: (c) => crashes.push({ ...c, at: Date.now() }),
    });
    await until(() => crashes.length >= 3, { timeoutMs: 6_000, what: 'three failed starts', observe: () => `${crashes.length} failed start(s)` });
    expect(crashes[0]).toMatchObject({ pid: undefined, viewers: 0, beforeReady: true });
    expect(crashes[0]!.spawnError).toContain('ENOENT');
    // The retries back off: 0.5 s, then 1 s (each timed after the report of the failure before it, and timers fire no earlier than asked).
    expect(crashes[1]!.at - crashes[0]!.at).toBeGreaterThanOrEqual(500);
    expect(crashes[2]!.at - crashes[1]!.at).toBeGreaterThanOrEqual(1_000);
    host.handleSignal('v1', { type: 'offer', sdp: 'v=0' });
    expect(sent).toEqual([
      {
        viewerId: 'v1',
        message: expect.objectContaining({
          type: 'error',
          code: 'ERR_P2P_UNAVAILABLE',
          message: expect.stringContaining('failed to start (spawn /nonexistent'),
        }),
      },
    ]);
  });
});
