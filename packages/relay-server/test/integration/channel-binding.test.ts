/**
 * Channel binding (docs/PROTOCOL.md §Verified channels) with real
 * @roamhq/wrtc peer connections on loopback: a direct channel between the
 * viewer and the agent binds, and what the agent sends right after its proof
 * reaches the viewer in order; a party in the middle that terminates DTLS on
 * both sides and passes every message through (what a tampering tunnel
 * server would run) makes both ends refuse, even though it relays their
 * proofs untouched. The peers and both ends' bindings live in a child
 * process (helpers/peer-fixture.ts).
 */
import { generateLinkKey } from '@wingman/protocol';
import { PeerFixture, type FixtureDc, type FixturePc } from './helpers/peer-fixture';

jest.setTimeout(30_000);

let fixture: PeerFixture;
beforeEach(async () => {
  fixture = await PeerFixture.start();
});
afterEach(async () => {
  await fixture.close();
});

/** Two wrtc peers connected on loopback (candidates inside the SDP): the offerer's channel and the answerer's. */
async function connectedPair(): Promise<{ offerer: FixturePc; answerer: FixturePc; offered: FixtureDc; answered: FixtureDc }> {
  const offerer = await fixture.newPc();
  const answerer = await fixture.newPc();
  const offered = await offerer.createDataChannel('wingman', { ordered: true });
  const answered = answerer.nextChannel({ timeoutMs: 10_000, what: 'the data channel' });
  await offerer.setLocalDescription(await offerer.createOffer());
  await offerer.gathered();
  await answerer.setRemoteDescription(await offerer.localDescription());
  await answerer.setLocalDescription(await answerer.createAnswer());
  await answerer.gathered();
  await offerer.setRemoteDescription(await answerer.localDescription());
  return { offerer, answerer, offered, answered: await answered };
}

/** The session's link key and id: both ends bind with the keys derived from them. */
const session = () => ({ linkKey: generateLinkKey(), sessionId: 'abcdefghijklmnopqrstuvwxyz' });

describe('channel binding over real wrtc data channels', () => {
  it('binds a direct channel, and the frames the agent sent right after its proof arrive in order', async () => {
    const link = session();
    const { offerer, answerer, offered, answered } = await connectedPair();
    // The agent sends its two frames as soon as its end is bound, before the viewer's end may be.
    const agentSide = answered.bind({ ...link, me: 'agent', pc: answerer, sendWhenBound: [[1], [2]] });
    const viewerSide = offered.bind({ ...link, me: 'viewer', pc: offerer });
    expect(await agentSide).toBe('bound');
    expect(await viewerSide).toBe('bound');
    expect(await offered.boundMessagesUpTo(2, { timeoutMs: 5_000, what: 'the two frames' })).toEqual([[1], [2]]);
  });

  it('refuses at both ends when a party in the middle terminates DTLS on each side and relays the proofs untouched', async () => {
    const link = session();
    const left = await connectedPair(); // viewer (offerer) ↔ middle (answerer)
    const right = await connectedPair(); // middle (offerer) ↔ agent (answerer)
    await left.answered.relayTo(right.offered);
    await right.offered.relayTo(left.answered);
    const viewer = left.offered.bind({ ...link, me: 'viewer', pc: left.offerer });
    const agent = right.answered.bind({ ...link, me: 'agent', pc: right.answerer });
    expect(await Promise.all([viewer, agent])).toEqual(['refused', 'refused']);
  });
});
