/**
 * Prepared peer connections (docs/PROTOCOL.md §Resumed peer connections),
 * with real @roamhq/wrtc peer connections on loopback: a viewer whose channel
 * is up prepares its next page load's peer connection, and a later viewer
 * (the reloaded page) claims it with an offer repeating its credentials; the
 * store's bounds and its checks of a claim. The hosts, stores and peer
 * connections live in a child process (helpers/peer-fixture.ts).
 */
import type { ViewerSignal } from '@wingman/protocol';
import { offerIdentity } from '../../src/p2p/prepared-peers';
import { PeerFixture, type FixtureHost, type FixturePc } from './helpers/peer-fixture';
import { expectNoEventWithin } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let fixture: PeerFixture;
beforeEach(async () => {
  fixture = await PeerFixture.start();
});
afterEach(async () => {
  await fixture.close();
});

const newPc = () => fixture.newPc();

/** An offer with a data channel, as a page makes one (no candidates: nothing gathered yet). */
async function offerOf(pc: FixturePc): Promise<string> {
  await pc.createDataChannel('wingman');
  return (await pc.createOffer()).sdp;
}

const startHost = () => fixture.newHost({ acceptLoopbackCandidates: true });

/** Connects `pc` to the host as `viewerId`: its offer (with `extra`), the host's answer unless `kept` is applied already, candidates both ways. */
async function connect(h: FixtureHost, viewerId: string, pc: FixturePc, options: { offer?: string; kept?: string; resume?: string } = {}) {
  const dc = options.offer ? undefined : await pc.createDataChannel('wingman');
  await pc.trickleTo(h, viewerId);
  await pc.setLocalDescription({ type: 'offer', sdp: options.offer ?? (await pc.createOffer()).sdp });
  if (options.kept) await pc.setRemoteDescription({ type: 'answer', sdp: options.kept });
  const offer: ViewerSignal = { type: 'offer', sdp: (await pc.localDescription()).sdp, ...(options.resume ? { resume: options.resume } : {}) };
  await h.handleSignal(viewerId, offer);
  const { message: answer } = await h.signal((s) => s.viewerId === viewerId && (s.message.type === 'answer' || s.message.type === 'error'), {
    timeoutMs: 5_000,
    what: `the host's answer to ${viewerId}`,
  });
  if (answer.type !== 'answer') return { answer };
  if (!options.kept) await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  for (const s of h.signals) if (s.viewerId === viewerId && s.message.type === 'ice-candidate') await pc.addIceCandidate(s.message.candidate);
  return { answer, dc };
}

/** A host whose viewer `aaaa…` is connected and has prepared `next`'s offer (`ahead`): what a shell does once its channel is up. */
async function preparedHost() {
  const h = await startHost();
  const { dc } = await connect(h, 'aaaaaaaaaaaaaaaa', await newPc());
  await dc!.opened({ timeoutMs: 10_000, what: 'the first channel' });
  await h.report((r) => r.state === 'connected', { timeoutMs: 10_000, what: 'the first viewer connected' });
  // The next page's peer connection, offered ahead (its channel made first, as a shell makes it).
  const next = await newPc();
  const ahead = await offerOf(next);
  await h.handleSignal('aaaaaaaaaaaaaaaa', { type: 'prepare', sdp: ahead });
  const { message: prepared } = await h.signal((s) => s.message.type === 'prepared', { timeoutMs: 10_000, what: 'the prepared answer' });
  if (prepared.type !== 'prepared') throw new Error('not prepared');
  return { h, next, ahead, prepared };
}

describe('the P2P host: a prepared peer connection', () => {
  it("is answered for a viewer whose channel is up, and claimed by the next page's offer repeating its credentials: connected, reported resumed", async () => {
    const { h, next, ahead, prepared } = await preparedHost();
    expect(prepared.resume).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(prepared.sdp).toMatch(/^a=candidate:/m);

    // The reload: another signaling viewer; the kept answer applied before the host's comes back.
    const claimed = await connect(h, 'bbbbbbbbbbbbbbbb', next, { offer: ahead, kept: prepared.sdp, resume: prepared.resume });
    expect(claimed.answer.type).toBe('answer');
    const report = await h.report((r) => r.viewerId === 'bbbbbbbbbbbbbbbb' && r.state === 'connected', {
      timeoutMs: 10_000,
      what: 'the claimed peer connection connected',
    });
    expect(report).toMatchObject({ resumed: true });
    // A token is good for one claim.
    const again = await newPc();
    const refused = await connect(h, 'cccccccccccccccc', again, { offer: await offerOf(again), resume: prepared.resume });
    expect(refused.answer).toMatchObject({ type: 'error', code: 'ERR_RESUME_UNKNOWN' });
  });

  it("says resumed in the viewer's report when another of its peer connections came up before the claimed one", async () => {
    const { h, next, ahead, prepared } = await preparedHost();

    // The reload claims pc 0 (its checks never start here: the page's side is gone), then offers pc 1 as usual.
    await next.setLocalDescription({ type: 'offer', sdp: ahead });
    await h.handleSignal('bbbbbbbbbbbbbbbb', { type: 'offer', sdp: ahead, resume: prepared.resume });
    await next.close();
    const second = await newPc();
    const channel = await second.createDataChannel('wingman');
    await second.trickleTo(h, 'bbbbbbbbbbbbbbbb', 1);
    await second.setLocalDescription(await second.createOffer());
    await h.handleSignal('bbbbbbbbbbbbbbbb', { type: 'offer', pc: 1, sdp: (await second.localDescription()).sdp });
    const { message: answer } = await h.signal((s) => s.viewerId === 'bbbbbbbbbbbbbbbb' && s.message.type === 'answer' && s.message.pc === 1, {
      timeoutMs: 5_000,
      what: "the host's answer to pc 1",
    });
    if (answer.type !== 'answer') throw new Error('no answer');
    await second.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    for (const s of h.signals)
      if (s.viewerId === 'bbbbbbbbbbbbbbbb' && s.message.type === 'ice-candidate' && s.message.pc === 1) await second.addIceCandidate(s.message.candidate);
    await channel.opened({ timeoutMs: 10_000, what: 'pc 1 channel' });
    const report = await h.report((r) => r.viewerId === 'bbbbbbbbbbbbbbbb' && r.state === 'connected', {
      timeoutMs: 10_000,
      what: 'the reloaded viewer connected',
    });
    expect(report).toMatchObject({ resumed: true });
  });

  it('prepares nothing for a viewer without a channel', async () => {
    const h = await startHost();
    await h.handleSignal('dddddddddddddddd', { type: 'prepare', sdp: await offerOf(await newPc()) });
    // A refusal would come at once, a prepared answer once the host has gathered: within milliseconds on loopback without ICE servers.
    await expectNoEventWithin(h.emitter, 'signal', { windowMs: 500, what: 'a signal to a viewer without a channel' });
    expect(h.signals).toEqual([]);
  });
});

describe('the store of prepared peer connections', () => {
  it('keeps one per preparing viewer and at most its bound, the oldest going first', async () => {
    const store = await fixture.newStore({ max: 2 });
    const entry = async (preparer: string) => {
      const pc = await newPc();
      return { preparer, pc, offer: await offerOf(pc), loopback: false };
    };
    const a = await entry('a');
    await store.park(a);
    const a2 = await entry('a');
    await store.park(a2);
    expect(store.closed).toEqual([a.pc.id]);
    const b = await entry('b');
    await store.park(b);
    const c = await entry('c');
    await store.park(c);
    expect(store.closed).toEqual([a.pc.id, a2.pc.id]);
    expect(await store.size()).toBe(2);
    await store.close();
    expect(store.closed).toEqual([a.pc.id, a2.pc.id, b.pc.id, c.pc.id]);
  });

  it('gives a parked peer connection only to an offer with its credentials and fingerprint, signed as it was prepared, once', async () => {
    const store = await fixture.newStore({ max: 4 });
    const pc = await newPc();
    const offer = await offerOf(pc);
    const otherOffer = await offerOf(await newPc());
    expect(offerIdentity(offer)).toBeDefined();
    expect(offerIdentity(otherOffer)).not.toBe(offerIdentity(offer));

    const token = await store.park({ preparer: 'a', pc, offer, loopback: false });
    expect(await store.claim('A'.repeat(22), offer, false)).toBeUndefined();
    expect(await store.claim(token, offer, false)).toBe(pc.id);
    expect(await store.claim(token, offer, false)).toBeUndefined();

    // Another offer's credentials, or a MAC where the preparation had none: refused, and the parked one closed.
    const second = await newPc();
    const t2 = await store.park({ preparer: 'b', pc: second, offer, loopback: false });
    expect(await store.claim(t2, otherOffer, false)).toBeUndefined();
    expect(store.closed).toEqual([second.id]);
    const third = await newPc();
    const t3 = await store.park({ preparer: 'c', pc: third, offer, loopback: false });
    expect(await store.claim(t3, offer, true)).toBeUndefined();
    expect(store.closed).toEqual([second.id, third.id]);
  });

  it('waits a short while only, once the viewer that prepared one has left', async () => {
    const store = await fixture.newStore({ max: 4, afterLeaveMs: 100 });
    const mine = await newPc();
    const others = await newPc();
    await store.park({ preparer: 'a', pc: mine, offer: await offerOf(mine), loopback: false });
    const offerB = await offerOf(others);
    const kept = await store.park({ preparer: 'b', pc: others, offer: offerB, loopback: false });
    await store.preparerLeft('a');
    await store.closedUpTo(1, { timeoutMs: 2_000, what: "the left viewer's one closed" });
    expect(store.closed).toEqual([mine.id]);
    expect(await store.size()).toBe(1);
    // The other viewer's is still there to claim.
    expect(await store.claim(kept, offerB, false)).toBe(others.id);
  });

  it('closes a parked peer connection nobody claims in time', async () => {
    const store = await fixture.newStore({ max: 4, ttlMs: 100 });
    const pc = await newPc();
    const token = await store.park({ preparer: 'a', pc, offer: await offerOf(pc), loopback: false });
    await store.closedUpTo(1, { timeoutMs: 2_000, what: 'the unclaimed one closed' });
    expect(await store.claim(token, (await pc.descriptions()).local?.sdp ?? '', false)).toBeUndefined();
    expect(await store.size()).toBe(0);
  });
});
