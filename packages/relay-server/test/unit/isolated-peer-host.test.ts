/**
 * A P2P host process that cannot even be spawned (here: a Node executable
 * that does not exist) emits 'error' and never 'exit': the agent must treat
 * it as a crash, report it and try again with the backoff, not wait forever.
 * An offer that comes meanwhile waits for the next start while that is near.
 */
import { createIsolatedPeerHost, HOST_RESTART_BASE_MS, type HostCrash, type IsolatedPeerHostOptions } from '../../src/p2p/isolated-peer-host';
import { HOLD_RESTART_MAX_MS } from '../../src/p2p/offer-ledger';
import type { PeerHost } from '../../src/p2p/peer-host';
import { until } from '../../../../test/helpers/wait';

const init: IsolatedPeerHostOptions['init'] = {
  forward: { target: { host: '127.0.0.1', port: 1 }, hostHeader: 'rewrite' },
  iceServers: [],
  connectTimeoutMs: 1_000,
};

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

  it('holds an offer while the next start is due within HOLD_RESTART_MAX_MS, and refuses it with ERR_P2P_UNAVAILABLE once the restarts are further apart', async () => {
    const crashes: HostCrash[] = [];
    const sent: Array<{ viewerId: string; message: unknown }> = [];
    host = createIsolatedPeerHost({
      init,
      execPath: '/nonexistent/wingman-test/node',
      sendSignal: (viewerId, message) => sent.push({ viewerId, message }),
      onCrash: (c) => crashes.push(c),
    });
    await waitForCrashes(1, crashes, 4_000);
    expect(crashes[0]!.restartInMs).toBeLessThanOrEqual(HOLD_RESTART_MAX_MS);
    host.handleSignal('v1', { type: 'offer', sdp: 'v=0' });
    host.handleSignal('v1', { type: 'ice-candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' } });
    expect(sent).toEqual([]);
    // Each failed start hands the offer on; when the next start is further off than the hold, the viewer is told.
    await until(() => sent.length > 0, { timeoutMs: 10_000, what: 'the refusal' });
    expect(crashes.at(-1)!.restartInMs).toBeGreaterThan(HOLD_RESTART_MAX_MS);
    expect(sent).toEqual([{ viewerId: 'v1', message: expect.objectContaining({ type: 'error', code: 'ERR_P2P_UNAVAILABLE' }) }]);
    // Down with a restart far off: a new offer is refused at once.
    host.handleSignal('v2', { type: 'offer', sdp: 'v=0' });
    expect(sent.at(-1)).toEqual({
      viewerId: 'v2',
      message: expect.objectContaining({ type: 'error', code: 'ERR_P2P_UNAVAILABLE', message: expect.stringContaining('restarting') }),
    });
  });
});
