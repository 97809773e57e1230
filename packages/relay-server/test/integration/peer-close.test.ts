/**
 * How the P2P host closes a viewer's peer connection, with real @roamhq/wrtc
 * peer connections on loopback: the viewer sees its channel closed while its
 * transport is still up, and the transport goes a moment later. A Node viewer
 * sending on a channel whose transport is being torn down crashes inside
 * wrtc; its channel closing first is what lets it stop. The host and the
 * viewer live in a child process (helpers/peer-fixture.ts).
 */
import { PeerFixture } from './helpers/peer-fixture';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let fixture: PeerFixture;
beforeEach(async () => {
  fixture = await PeerFixture.start();
});
afterEach(async () => {
  await fixture.close();
});

/** A raw viewer connected to a new host over one data channel. */
async function connectedViewer() {
  const host = await fixture.newHost({ acceptLoopbackCandidates: true });
  const pc = await fixture.newPc();
  const dc = await pc.createDataChannel('wingman');
  await pc.setLocalDescription(await pc.createOffer());
  await pc.gathered();
  await host.handleSignal('v', { type: 'offer', sdp: (await pc.localDescription()).sdp });
  const { message: answer } = await host.signal((s) => s.message.type === 'answer', { timeoutMs: 5_000, what: 'the answer' });
  if (answer.type !== 'answer') throw new Error('no answer');
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  for (const { message: s } of host.signals) if (s.type === 'ice-candidate') await pc.addIceCandidate(s.candidate);
  await dc.opened({ timeoutMs: 10_000, what: "the viewer's channel to open" });
  await until(async () => (await host.peers()).find((p) => p.state === 'connected'), { timeoutMs: 10_000, what: 'the host to report the peer connected' });
  return { host, pc, dc };
}

describe('P2P host: closing a viewer', () => {
  it("closes the viewer's channels first and its peer connection PEER_CLOSE_GRACE_MS later", async () => {
    const { host, pc, dc } = await connectedViewer();
    // The viewer's DTLS transport state, as its stats say (its connectionState follows ICE and lags seconds behind), read as its channel closes.
    const atChannelClose = dc.dtlsStateAtClose(pc, { timeoutMs: 5_000, what: "the viewer's channel to close" });
    await host.closePeer('v', 'viewer refused by the developer');
    // The channel closed while the transport under it was still up: a viewer stops sending there first.
    expect(await atChannelClose).toBe('connected');
    // Then the host's end of the transport goes (its DTLS close), without the viewer closing its own.
    await until(async () => (await pc.dtlsState()) === 'closed' || undefined, { timeoutMs: 5_000, what: "the host's DTLS close" });
    expect(await host.peers()).toEqual([]);
  });
});
