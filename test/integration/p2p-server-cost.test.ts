/**
 * docs/architecture.md §Scale: a P2P session costs the tunnel server signaling only.
 * Measured on real processes: a 5 MiB download over P2P (`wingman fetch`,
 * a real @roamhq/wrtc viewer in its own process) adds nothing to the
 * server's relayed bytes, and a few KiB of signaling, read from /metrics.
 */
import { patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { metricSum } from '../helpers/http-client';
import { killAll, runWingmanFetch, startTunnel, type Tunnel } from '../helpers/processes';
import { createHash } from 'node:crypto';

jest.setTimeout(60_000);

const MiB = 1024 * 1024;
/** Bound on one session's signaling, bytes: SDP offer + answer are a few KiB, candidates ~200 B each. */
const SIGNALING_BOUND_BYTES = 64 * 1024;

let app: FixtureApp;
let t: Tunnel;

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(async () => {
  await killAll();
  await app.close();
});

const metric = (name: string, labels = '') => metricSum(t.serverPort, name, labels);

describe('what a P2P session costs the tunnel server', () => {
  it('carries a 5 MiB download without relaying its bytes, for a few KiB of signaling', async () => {
    const relayedBefore = await metric('wingman_relay_bytes_total');
    const signalingBefore = await metric('wingman_signaling_bytes_total');
    const r = await runWingmanFetch(['--p2p-only', `${t.url}bytes?n=${5 * MiB}`]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/200 via p2p/);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(patternSha256(5 * MiB));

    const relayed = (await metric('wingman_relay_bytes_total')) - relayedBefore;
    const signaling = (await metric('wingman_signaling_bytes_total')) - signalingBefore;
    console.log(`tunnel server per P2P session: ${signaling} signaling bytes, ${relayed} relayed bytes for a 5 MiB download`);
    expect(relayed).toBe(0);
    expect(signaling).toBeGreaterThan(0);
    expect(signaling).toBeLessThan(SIGNALING_BOUND_BYTES);
    expect(await metric('wingman_signaling_bytes_total', 'direction="viewer-to-server"')).toBeGreaterThan(0);
    expect(await metric('wingman_signaling_bytes_total', 'direction="server-to-viewer"')).toBeGreaterThan(0);
  });
});
