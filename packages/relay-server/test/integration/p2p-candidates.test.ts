/**
 * The P2P host's candidate rules with real @roamhq/wrtc peer connections on
 * loopback: every remote candidate counts (those in the offer's SDP too),
 * a viewer's loopback candidates are used only when the host was told the
 * viewer is on this machine, and with host candidates withheld the viewer
 * learns none of this machine's addresses.
 */
import type { HostSignal } from '@wingman/protocol';
import { MAX_REMOTE_CANDIDATES } from '../../src/p2p/candidates';
import { createPeerHost, type PeerHost, type PeerHostOptions, type PeerReport } from '../../src/p2p/peer-host';
import { createPeerConnection, type RtcPeerConnection } from '../../src/p2p/webrtc';
import { createSocket, type Socket } from 'node:dgram';
import { expectNoEventWithin, until, waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let host: PeerHost | undefined;
const viewers: RtcPeerConnection[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  host?.close();
  host = undefined;
  for (const pc of viewers.splice(0)) pc.close();
});

/** A host whose signals and reports are recorded. */
function startHost(options: Partial<PeerHostOptions> = {}) {
  const signals: HostSignal[] = [];
  const reports: PeerReport[] = [];
  host = createPeerHost({
    handleStream: (stream) => stream.reset('ERR_PROTOCOL', 'not in this test'),
    sendSignal: (_viewerId, message) => signals.push(message),
    report: (r) => reports.push(r),
    connectTimeoutMs: 4_000,
    ...options,
  });
  return { host, signals, reports };
}

/** A real viewer offer with its candidates gathered into the SDP (on loopback: host candidates). */
async function viewerOffer(): Promise<{ pc: RtcPeerConnection; sdp: string }> {
  const pc = createPeerConnection({});
  viewers.push(pc);
  pc.createDataChannel('wingman');
  const gathered = new Promise<void>((resolve) => (pc.onicecandidate = (ev) => ev.candidate === null && resolve()));
  await pc.setLocalDescription(await pc.createOffer());
  await gathered;
  return { pc, sdp: pc.localDescription!.sdp };
}

const fakeCandidate = (i: number) => `a=candidate:${i} 1 udp 2122260223 10.9.${i >> 8}.${i & 255} ${40000 + i} typ host`;

/** Appends candidate lines to the SDP's (only) media section, which ends the SDP. */
const withExtra = (sdp: string, lines: string[]) => `${sdp.trimEnd()}\r\n${lines.join('\r\n')}\r\n`;

describe('P2P host: remote candidates', () => {
  it(`counts the candidates inside the offer's SDP against the limit of ${MAX_REMOTE_CANDIDATES}`, async () => {
    const { host, signals, reports } = startHost({ acceptLoopbackCandidates: true });
    const { sdp } = await viewerOffer();
    host.handleSignal('v1', {
      type: 'offer',
      sdp: withExtra(
        sdp,
        Array.from({ length: MAX_REMOTE_CANDIDATES + 1 }, (_, i) => fakeCandidate(i)),
      ),
    });
    await until(() => signals.length > 0 || undefined, { timeoutMs: 5_000, what: 'an answer or an error' });
    expect(signals[0]).toMatchObject({ type: 'error', code: 'ERR_TOO_MANY_CANDIDATES' });
    expect(reports).toEqual([expect.objectContaining({ state: 'failed', reason: 'too many candidates' })]);

    // Candidates in the SDP and trickled ones add up.
    const inSdp = MAX_REMOTE_CANDIDATES - 2 - (sdp.match(/a=candidate:/g) ?? []).length;
    host.handleSignal('v2', {
      type: 'offer',
      sdp: withExtra(
        sdp,
        Array.from({ length: inSdp }, (_, i) => fakeCandidate(i)),
      ),
    });
    await until(() => signals.some((s) => s.type === 'answer') || undefined, {
      timeoutMs: 5_000,
      what: 'the answer to v2',
      observe: () => JSON.stringify(signals).slice(0, 600),
    });
    for (let i = 0; i < 3; i++)
      host.handleSignal('v2', { type: 'ice-candidate', candidate: { candidate: fakeCandidate(200 + i).slice(2), sdpMid: '0', sdpMLineIndex: 0 } });
    // Each viewer's signals are checked and applied in order, asynchronously (a MAC is verified first).
    await until(() => signals.filter((s) => s.type === 'error').length >= 2 || undefined, {
      timeoutMs: 5_000,
      what: 'the error for the 65th candidate',
      observe: () => JSON.stringify(signals).slice(0, 600),
    });
    expect(signals.filter((s) => s.type === 'error')).toHaveLength(2);
  });

  it("sends STUN checks to a viewer's loopback candidate only when told the viewer is on this machine", async () => {
    for (const acceptLoopbackCandidates of [true, false]) {
      // Where a crafted candidate points: a UDP port on this machine that records what arrives.
      const target = createSocket('udp4');
      sockets.push(target);
      await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));
      const { host, signals } = startHost({ acceptLoopbackCandidates });
      const { sdp } = await viewerOffer();
      host.handleSignal('v', { type: 'offer', sdp });
      await until(() => signals.some((s) => s.type === 'answer') || undefined, { timeoutMs: 5_000, what: 'the answer' });
      const candidate = `candidate:9 1 udp 2122260223 127.0.0.1 ${target.address().port} typ host`;
      host.handleSignal('v', { type: 'ice-candidate', candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0 } });
      if (acceptLoopbackCandidates) await waitForEvent(target, 'message', { timeoutMs: 5_000, what: 'a STUN check at the loopback candidate' });
      else await expectNoEventWithin(target, 'message', { windowMs: 2_000, what: 'a STUN check at a dropped loopback candidate' });
      host.close();
    }
  });

  it('sends no host candidate with hideHostCandidates, in the answer or trickled', async () => {
    const { host, signals } = startHost({ acceptLoopbackCandidates: true, hideHostCandidates: true });
    const viewer = await viewerOffer();
    host.handleSignal('v', { type: 'offer', sdp: viewer.sdp });
    await until(() => signals.some((s) => s.type === 'end-of-candidates') || undefined, { timeoutMs: 10_000, what: "the host's end of candidates" });
    const answer = signals.find((s) => s.type === 'answer');
    if (answer?.type !== 'answer') throw new Error('no answer');
    expect(answer.sdp).not.toMatch(/a=candidate:.* typ host/);
    expect(signals.filter((s) => s.type === 'ice-candidate')).toEqual([]);

    // The same host without the option shows its loopback candidates to this local viewer.
    host.close();
    const open = startHost({ acceptLoopbackCandidates: true });
    open.host.handleSignal('v', { type: 'offer', sdp: (await viewerOffer()).sdp });
    await until(() => open.signals.some((s) => s.type === 'end-of-candidates') || undefined, { timeoutMs: 10_000, what: "the host's end of candidates" });
    const shown = open.signals.filter((s) => s.type === 'ice-candidate');
    const inAnswer = open.signals.find((s) => s.type === 'answer');
    expect(shown.length + (inAnswer?.type === 'answer' ? (inAnswer.sdp.match(/a=candidate:.* typ host/g) ?? []).length : 0)).toBeGreaterThan(0);
  });
});
