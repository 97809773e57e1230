/**
 * Channel binding (docs/PROTOCOL.md §Verified channels) with real
 * @roamhq/wrtc peer connections on loopback: a direct channel between the
 * viewer and the agent binds, and what the agent sends right after its proof
 * reaches the viewer in order; a party in the middle that terminates DTLS on
 * both sides and passes every message through (what a tampering tunnel
 * server would run) makes both ends refuse, even though it relays their
 * proofs untouched.
 */
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  deriveTrustKeys,
  generateLinkKey,
  linkKeyBytes,
  sdpFingerprint,
  type DataChannelLike,
  type SignalSender,
  type TrustKeys,
} from '@wingman/protocol';
import { createPeerConnection, type RtcDataChannel, type RtcPeerConnection } from '../../src/p2p/webrtc';
import { withTimeout } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

const peers: RtcPeerConnection[] = [];
afterEach(() => {
  for (const pc of peers.splice(0)) pc.close();
});

/** Two wrtc peers connected on loopback (candidates inside the SDP): the offerer's channel and the answerer's. */
async function connectedPair(): Promise<{ offerer: RtcPeerConnection; answerer: RtcPeerConnection; offered: RtcDataChannel; answered: RtcDataChannel }> {
  const offerer = createPeerConnection({});
  const answerer = createPeerConnection({});
  peers.push(offerer, answerer);
  const offered = offerer.createDataChannel('wingman', { ordered: true });
  const gathered = (pc: RtcPeerConnection) => new Promise<void>((resolve) => (pc.onicecandidate = (ev) => ev.candidate === null && resolve()));
  const answered = new Promise<RtcDataChannel>((resolve) => (answerer.ondatachannel = (ev) => resolve(ev.channel)));
  const offerGathered = gathered(offerer);
  await offerer.setLocalDescription(await offerer.createOffer());
  await offerGathered;
  await answerer.setRemoteDescription(offerer.localDescription!);
  const answerGathered = gathered(answerer);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await answerGathered;
  await offerer.setRemoteDescription(answerer.localDescription!);
  return { offerer, answerer, offered, answered: await withTimeout(answered, { timeoutMs: 10_000, what: 'the data channel' }) };
}

/** One end's binding, with the fingerprints as that end sees them (its own from its local description, the other's from its remote one). */
function bind(keys: TrustKeys, me: SignalSender, pc: RtcPeerConnection, dc: DataChannelLike): Promise<DataChannelLike> {
  return bindDataChannel(dc, async () => {
    const own = sdpFingerprint(pc.localDescription!.sdp)!;
    const other = sdpFingerprint(pc.remoteDescription!.sdp)!;
    const fps = me === 'agent' ? { agent: own, viewer: other } : { agent: other, viewer: own };
    const peer: SignalSender = me === 'agent' ? 'viewer' : 'agent';
    const [mine, expected] = await Promise.all([bindingProof(keys, me, fps), bindingProof(keys, peer, fps)]);
    return { own: mine, expected };
  });
}

const sessionKeys = () => deriveTrustKeys(linkKeyBytes(generateLinkKey())!, 'abcdefghijklmnopqrstuvwxyz');

describe('channel binding over real wrtc data channels', () => {
  it('binds a direct channel, and the frames the agent sent right after its proof arrive in order', async () => {
    const keys = await sessionKeys();
    const { offerer, answerer, offered, answered } = await connectedPair();
    const agentSide = bind(keys, 'agent', answerer, answered);
    const viewerSide = bind(keys, 'viewer', offerer, offered);
    const agent = await agentSide;
    agent.send(new Uint8Array([1]).buffer);
    agent.send(new Uint8Array([2]).buffer);
    const viewer = await viewerSide;
    const got: number[] = [];
    const both = new Promise<void>((resolve) =>
      viewer.addEventListener('message', (ev) => {
        got.push(new Uint8Array(ev.data as ArrayBuffer)[0]!);
        if (got.length === 2) resolve();
      }),
    );
    await withTimeout(both, { timeoutMs: 5_000, what: 'the two frames' });
    expect(got).toEqual([1, 2]);
  });

  it('refuses at both ends when a party in the middle terminates DTLS on each side and relays the proofs untouched', async () => {
    const keys = await sessionKeys();
    const left = await connectedPair(); // viewer (offerer) ↔ middle (answerer)
    const right = await connectedPair(); // middle (offerer) ↔ agent (answerer)
    const relay = (from: RtcDataChannel, to: RtcDataChannel) => from.addEventListener('message', (ev) => to.send(ev.data as ArrayBuffer));
    relay(left.answered, right.offered);
    relay(right.offered, left.answered);
    const viewer = bind(keys, 'viewer', left.offerer, left.offered);
    const agent = bind(keys, 'agent', right.answerer, right.answered);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'bound',
        (err: unknown) => (err instanceof BindingError && err.refused ? 'refused' : String(err)),
      );
    expect(await Promise.all([outcome(viewer), outcome(agent)])).toEqual(['refused', 'refused']);
  });
});
