/**
 * How the P2P host closes a viewer's peer connection, with real @roamhq/wrtc
 * peer connections on loopback: the viewer sees its channel closed while its
 * transport is still up, and the transport goes a moment later. A Node viewer
 * sending on a channel whose transport is being torn down crashes inside
 * wrtc; its channel closing first is what lets it stop.
 */
import type { HostSignal } from '@wingman/protocol';
import { createPeerHost, type PeerHost } from '../../src/p2p/peer-host';
import { PEER_CLOSE_GRACE_MS } from '../../src/p2p/graceful-close';
import { createPeerConnection, type RtcPeerConnection } from '../../src/p2p/webrtc';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let host: PeerHost | undefined;
const viewers: RtcPeerConnection[] = [];

afterEach(() => {
  host?.close();
  host = undefined;
  for (const pc of viewers.splice(0)) pc.close();
});

/** A raw viewer connected to a new host over one data channel. */
async function connectedViewer() {
  const signals: HostSignal[] = [];
  host = createPeerHost({
    handleStream: (stream) => stream.reset('ERR_PROTOCOL', 'not in this test'),
    sendSignal: (_viewerId, message) => signals.push(message),
    acceptLoopbackCandidates: true,
  });
  const pc = createPeerConnection({});
  viewers.push(pc);
  const dc = pc.createDataChannel('wingman');
  const gathered = new Promise<void>((resolve) => (pc.onicecandidate = (ev) => ev.candidate === null && resolve()));
  await pc.setLocalDescription(await pc.createOffer());
  await gathered;
  host.handleSignal('v', { type: 'offer', sdp: pc.localDescription!.sdp });
  const answer = await until(() => signals.find((s) => s.type === 'answer'), { timeoutMs: 5_000, what: 'the answer' });
  if (answer.type !== 'answer') throw new Error('no answer');
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  for (const s of signals) if (s.type === 'ice-candidate') await pc.addIceCandidate(s.candidate);
  await until(() => dc.readyState === 'open' || undefined, { timeoutMs: 10_000, what: "the viewer's channel to open" });
  await until(() => host!.peers().find((p) => p.state === 'connected'), { timeoutMs: 10_000, what: 'the host to report the peer connected' });
  return { pc, dc };
}

/** The viewer's DTLS transport state, as its stats say (the viewer's connectionState follows ICE and lags seconds behind). */
async function dtlsState(pc: RtcPeerConnection): Promise<string> {
  const stats = await pc.getStats();
  return String([...stats.values()].find((r) => r.type === 'transport')?.dtlsState);
}

describe('P2P host: closing a viewer', () => {
  it(`closes the viewer's channels first and its peer connection ${PEER_CLOSE_GRACE_MS} ms later`, async () => {
    const { pc, dc } = await connectedViewer();
    const atChannelClose = new Promise<string>((resolve) => dc.addEventListener('close', () => void dtlsState(pc).then(resolve)));
    host!.closePeer('v', 'viewer refused by the developer');
    // The channel closed while the transport under it was still up: a viewer stops sending there first.
    expect(await atChannelClose).toBe('connected');
    // Then the host's end of the transport goes (its DTLS close), without the viewer closing its own.
    await until(async () => (await dtlsState(pc)) === 'closed' || undefined, { timeoutMs: 5_000, what: "the host's DTLS close" });
    expect(host!.peers()).toEqual([]);
  });
});
