/**
 * A P2P host process that cannot even be spawned (here: a Node executable
 * that does not exist) emits 'error' and never 'exit': the agent must treat
 * it as a crash, report it and try again with the backoff, not wait forever.
 */
import { createIsolatedPeerHost, HOST_RESTART_BASE_MS, type HostCrash, type IsolatedPeerHostOptions } from '../../src/p2p/isolated-peer-host';
import type { PeerHost } from '../../src/p2p/peer-host';
import { until } from '../../../../test/helpers/wait';

const init: IsolatedPeerHostOptions['init'] = { target: { host: '127.0.0.1', port: 1 }, hostHeader: 'rewrite', iceServers: [], connectTimeoutMs: 1_000 };

let host: PeerHost | undefined;
afterEach(() => host?.close());

/** The crash reports arrive through onCrash into `crashes`; polled, bounded by timeoutMs. */
async function waitForCrashes(count: number, crashes: HostCrash[], timeoutMs: number): Promise<void> {
  await until(() => crashes.length >= count, { timeoutMs, what: `${count} crash report(s)`, observe: () => `${crashes.length} crash report(s)` });
}

describe('a P2P host process that fails to spawn', () => {
  it('is reported as a crash with the spawn error and started again after the backoff', async () => {
    const crashes: HostCrash[] = [];
    let starts = 0;
    host = createIsolatedPeerHost({
      init,
      execPath: '/nonexistent/wingman-test/node',
      sendSignal: () => undefined,
      onStart: () => starts++,
      onCrash: (c) => crashes.push(c),
    });
    await waitForCrashes(2, crashes, 4_000);
    expect(crashes[0]).toMatchObject({ pid: undefined, viewers: 0, restartInMs: HOST_RESTART_BASE_MS });
    expect(crashes[0]!.spawnError).toContain('ENOENT');
    expect(crashes[1]!.restartInMs).toBe(HOST_RESTART_BASE_MS * 2);
    expect(starts).toBeGreaterThanOrEqual(2);
  });

  it('answers an offer with ERR_P2P_UNAVAILABLE while it is down', async () => {
    const crashes: HostCrash[] = [];
    const sent: Array<{ viewerId: string; message: unknown }> = [];
    host = createIsolatedPeerHost({
      init,
      execPath: '/nonexistent/wingman-test/node',
      sendSignal: (viewerId, message) => sent.push({ viewerId, message }),
      onCrash: (c) => crashes.push(c),
    });
    await waitForCrashes(1, crashes, 4_000);
    host.handleSignal('v1', { type: 'offer', sdp: 'v=0' });
    expect(sent).toEqual([{ viewerId: 'v1', message: expect.objectContaining({ type: 'error', code: 'ERR_P2P_UNAVAILABLE' }) }]);
  });
});
