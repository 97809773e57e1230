/**
 * The P2P host's candidate rules with real @roamhq/wrtc peer connections on
 * loopback: every remote candidate counts (those in the offer's SDP too),
 * a viewer's loopback candidates are used only when the host was told the
 * viewer is on this machine, and with host candidates withheld the viewer
 * learns none of this machine's addresses. The hosts and the viewers live
 * in a child process (helpers/peer-fixture.ts).
 */
import { MAX_REMOTE_CANDIDATES } from '../../src/p2p/candidates';
import { PeerFixture, type FixtureHost } from './helpers/peer-fixture';
import { createSocket, type Socket } from 'node:dgram';
import { expectNoEventWithin, waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let fixture: PeerFixture;
const sockets: Socket[] = [];

beforeEach(async () => {
  fixture = await PeerFixture.start();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await fixture.close();
});

/** A host (its signals and reports recorded) refusing streams, with a 4 s connect timeout unless `options` says otherwise. */
const startHost = (options: Parameters<PeerFixture['newHost']>[0] = {}) => fixture.newHost({ connectTimeoutMs: 4_000, ...options });

/** A real viewer offer with its candidates gathered into the SDP (on loopback: host candidates). */
async function viewerOffer(): Promise<string> {
  const pc = await fixture.newPc();
  await pc.createDataChannel('wingman');
  await pc.setLocalDescription(await pc.createOffer());
  await pc.gathered();
  const { sdp } = await pc.localDescription();
  // What the tests below rely on: a host shows its own loopback candidates only to a viewer that showed one.
  if (!/^a=candidate:\S+ \d+ udp \d+ (127\.0\.0\.1|::1) /m.test(sdp)) throw new Error(`the viewer gathered no loopback candidate; its offer:\n${sdp}`);
  return sdp;
}

/** Resolves once `host` has sent `count` signals of `type` (a timeout names the last other signal it saw). */
const sent = (host: FixtureHost, type: string, what: string, timeoutMs: number, count = 1) =>
  host.signal(() => host.signals.filter((s) => s.message.type === type).length >= count, { timeoutMs, what });

const fakeCandidate = (i: number) => `a=candidate:${i} 1 udp 2122260223 10.9.${i >> 8}.${i & 255} ${40000 + i} typ host`;

/** Appends candidate lines to the SDP's (only) media section, which ends the SDP. */
const withExtra = (sdp: string, lines: string[]) => `${sdp.trimEnd()}\r\n${lines.join('\r\n')}\r\n`;

describe('P2P host: remote candidates', () => {
  it(`counts the candidates inside the offer's SDP against the limit of ${MAX_REMOTE_CANDIDATES}`, async () => {
    const host = await startHost({ acceptLoopbackCandidates: true });
    const sdp = await viewerOffer();
    await host.handleSignal('v1', {
      type: 'offer',
      sdp: withExtra(
        sdp,
        Array.from({ length: MAX_REMOTE_CANDIDATES + 1 }, (_, i) => fakeCandidate(i)),
      ),
    });
    const first = await host.signal(() => true, { timeoutMs: 5_000, what: 'an answer or an error' });
    expect(first.message).toMatchObject({ type: 'error', code: 'ERR_TOO_MANY_CANDIDATES' });
    await host.report(() => true, { timeoutMs: 5_000, what: "the host's report on v1" });
    expect(host.reports).toEqual([expect.objectContaining({ state: 'failed', reason: 'too many candidates' })]);

    // Candidates in the SDP and trickled ones add up.
    const inSdp = MAX_REMOTE_CANDIDATES - 2 - (sdp.match(/a=candidate:/g) ?? []).length;
    await host.handleSignal('v2', {
      type: 'offer',
      sdp: withExtra(
        sdp,
        Array.from({ length: inSdp }, (_, i) => fakeCandidate(i)),
      ),
    });
    await sent(host, 'answer', 'the answer to v2', 5_000);
    for (let i = 0; i < 3; i++)
      await host.handleSignal('v2', { type: 'ice-candidate', candidate: { candidate: fakeCandidate(200 + i).slice(2), sdpMid: '0', sdpMLineIndex: 0 } });
    // Each viewer's signals are checked and applied in order, asynchronously (a MAC is verified first).
    await sent(host, 'error', 'the error for the 65th candidate', 5_000, 2);
    expect(host.signals.filter((s) => s.message.type === 'error')).toHaveLength(2);
  });

  it("sends STUN checks to a viewer's loopback candidate only when told the viewer is on this machine", async () => {
    for (const acceptLoopbackCandidates of [true, false]) {
      // Where a crafted candidate points: a UDP port on this machine that records what arrives.
      const target = createSocket('udp4');
      sockets.push(target);
      await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));
      const host = await startHost({ acceptLoopbackCandidates });
      await host.handleSignal('v', { type: 'offer', sdp: await viewerOffer() });
      await sent(host, 'answer', 'the answer', 5_000);
      const candidate = `candidate:9 1 udp 2122260223 127.0.0.1 ${target.address().port} typ host`;
      await host.handleSignal('v', { type: 'ice-candidate', candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0 } });
      if (acceptLoopbackCandidates) await waitForEvent(target, 'message', { timeoutMs: 5_000, what: 'a STUN check at the loopback candidate' });
      else await expectNoEventWithin(target, 'message', { windowMs: 2_000, what: 'a STUN check at a dropped loopback candidate' });
      await host.close();
    }
  });

  it('sends no host candidate with hideHostCandidates, in the answer or trickled', async () => {
    const host = await startHost({ acceptLoopbackCandidates: true, hideHostCandidates: true });
    await host.handleSignal('v', { type: 'offer', sdp: await viewerOffer() });
    await sent(host, 'end-of-candidates', "the host's end of candidates", 10_000);
    const answer = host.signals.find((s) => s.message.type === 'answer')?.message;
    if (answer?.type !== 'answer') throw new Error('no answer');
    expect(answer.sdp).not.toMatch(/a=candidate:.* typ host/);
    expect(host.signals.filter((s) => s.message.type === 'ice-candidate')).toEqual([]);

    // The same host without the option shows its loopback candidates to this local viewer.
    await host.close();
    const open = await startHost({ acceptLoopbackCandidates: true });
    await open.handleSignal('v', { type: 'offer', sdp: await viewerOffer() });
    await sent(open, 'end-of-candidates', "the host's end of candidates", 10_000);
    const shown = open.signals.filter((s) => s.message.type === 'ice-candidate');
    const inAnswer = open.signals.find((s) => s.message.type === 'answer')?.message;
    expect(shown.length + (inAnswer?.type === 'answer' ? (inAnswer.sdp.match(/a=candidate:.* typ host/g) ?? []).length : 0)).toBeGreaterThan(0);
  });
});
