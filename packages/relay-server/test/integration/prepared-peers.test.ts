/**
 * Prepared peer connections (docs/PROTOCOL.md §Resumed peer connections),
 * with real @roamhq/wrtc peer connections on loopback: a viewer whose channel
 * is up prepares its next page load's peer connection, and a later viewer
 * (the reloaded page) claims it with an offer repeating its credentials; the
 * store's bounds and its checks of a claim.
 */
import type { HostSignal, ViewerSignal } from '@wingman/protocol';
import { createPeerHost, type PeerHost, type PeerReport } from '../../src/p2p/peer-host';
import { createParkedPeers, offerIdentity } from '../../src/p2p/prepared-peers';
import { createPeerConnection, type RtcPeerConnection } from '../../src/p2p/webrtc';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let host: PeerHost | undefined;
const pcs: RtcPeerConnection[] = [];

afterEach(() => {
  host?.close();
  host = undefined;
  for (const pc of pcs.splice(0)) pc.close();
});

function newPc(): RtcPeerConnection {
  const pc = createPeerConnection({});
  pcs.push(pc);
  return pc;
}

/** An offer with a data channel, as a page makes one (no candidates: nothing gathered yet). */
async function offerOf(pc: RtcPeerConnection): Promise<string> {
  pc.createDataChannel('wingman');
  return (await pc.createOffer()).sdp;
}

function startHost(signals: Array<{ viewerId: string; message: HostSignal }>, reports: PeerReport[]): PeerHost {
  return createPeerHost({
    handleStream: (stream) => stream.reset('ERR_PROTOCOL', 'not in this test'),
    sendSignal: (viewerId, message) => signals.push({ viewerId, message }),
    report: (r) => reports.push(r),
    acceptLoopbackCandidates: true,
  });
}

/** Connects `pc` to the host as `viewerId`: its offer (with `extra`), the host's answer unless `kept` is applied already, candidates both ways. */
async function connect(
  h: PeerHost,
  signals: Array<{ viewerId: string; message: HostSignal }>,
  viewerId: string,
  pc: RtcPeerConnection,
  options: { offer?: string; kept?: string; resume?: string } = {},
) {
  const dc = options.offer ? undefined : pc.createDataChannel('wingman');
  pc.onicecandidate = (ev) => {
    if (ev.candidate?.candidate)
      h.handleSignal(viewerId, {
        type: 'ice-candidate',
        candidate: { candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid ?? null, sdpMLineIndex: ev.candidate.sdpMLineIndex ?? null },
      });
  };
  await pc.setLocalDescription({ type: 'offer', sdp: options.offer ?? (await pc.createOffer()).sdp });
  if (options.kept) await pc.setRemoteDescription({ type: 'answer', sdp: options.kept });
  const offer: ViewerSignal = { type: 'offer', sdp: pc.localDescription!.sdp, ...(options.resume ? { resume: options.resume } : {}) };
  h.handleSignal(viewerId, offer);
  const answer = await until(() => signals.find((s) => s.viewerId === viewerId && (s.message.type === 'answer' || s.message.type === 'error'))?.message, {
    timeoutMs: 5_000,
    what: `the host's answer to ${viewerId}`,
  });
  if (answer.type !== 'answer') return { answer };
  if (!options.kept) await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  for (const s of signals) if (s.viewerId === viewerId && s.message.type === 'ice-candidate') await pc.addIceCandidate(s.message.candidate);
  return { answer, dc };
}

/** A host whose viewer `aaaa…` is connected and has prepared `next`'s offer (`ahead`): what a shell does once its channel is up. */
async function preparedHost() {
  const signals: Array<{ viewerId: string; message: HostSignal }> = [];
  const reports: PeerReport[] = [];
  const h = startHost(signals, reports);
  host = h;
  const { dc } = await connect(h, signals, 'aaaaaaaaaaaaaaaa', newPc());
  await until(() => dc?.readyState === 'open' || undefined, { timeoutMs: 10_000, what: 'the first channel' });
  await until(() => reports.find((r) => r.state === 'connected'), { timeoutMs: 10_000, what: 'the first viewer connected' });
  // The next page's peer connection, offered ahead (its channel made first, as a shell makes it).
  const next = newPc();
  const ahead = await offerOf(next);
  h.handleSignal('aaaaaaaaaaaaaaaa', { type: 'prepare', sdp: ahead });
  const prepared = await until(() => signals.find((s) => s.message.type === 'prepared')?.message, { timeoutMs: 10_000, what: 'the prepared answer' });
  if (prepared.type !== 'prepared') throw new Error('not prepared');
  return { h, signals, reports, next, ahead, prepared };
}

describe('the P2P host: a prepared peer connection', () => {
  it("is answered for a viewer whose channel is up, and claimed by the next page's offer repeating its credentials: connected, reported resumed", async () => {
    const { h, signals, reports, next, ahead, prepared } = await preparedHost();
    expect(prepared.resume).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(prepared.sdp).toMatch(/^a=candidate:/m);

    // The reload: another signaling viewer; the kept answer applied before the host's comes back.
    const claimed = await connect(h, signals, 'bbbbbbbbbbbbbbbb', next, { offer: ahead, kept: prepared.sdp, resume: prepared.resume });
    expect(claimed.answer.type).toBe('answer');
    await until(() => reports.find((r) => r.viewerId === 'bbbbbbbbbbbbbbbb' && r.state === 'connected'), {
      timeoutMs: 10_000,
      what: 'the claimed peer connection connected',
    });
    expect(reports.find((r) => r.viewerId === 'bbbbbbbbbbbbbbbb' && r.state === 'connected')).toMatchObject({ resumed: true });
    // A token is good for one claim.
    const again = newPc();
    const refused = await connect(h, signals, 'cccccccccccccccc', again, { offer: await offerOf(again), resume: prepared.resume });
    expect(refused.answer).toMatchObject({ type: 'error', code: 'ERR_RESUME_UNKNOWN' });
  });

  it("says resumed in the viewer's report when another of its peer connections came up before the claimed one", async () => {
    const { h, signals, reports, next, ahead, prepared } = await preparedHost();

    // The reload claims pc 0 (its checks never start here: the page's side is gone), then offers pc 1 as usual.
    await next.setLocalDescription({ type: 'offer', sdp: ahead });
    h.handleSignal('bbbbbbbbbbbbbbbb', { type: 'offer', sdp: ahead, resume: prepared.resume });
    next.close();
    const second = newPc();
    const channel = second.createDataChannel('wingman');
    second.onicecandidate = (ev) => {
      if (ev.candidate?.candidate)
        h.handleSignal('bbbbbbbbbbbbbbbb', {
          type: 'ice-candidate',
          pc: 1,
          candidate: { candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid ?? null, sdpMLineIndex: ev.candidate.sdpMLineIndex ?? null },
        });
    };
    await second.setLocalDescription(await second.createOffer());
    h.handleSignal('bbbbbbbbbbbbbbbb', { type: 'offer', pc: 1, sdp: second.localDescription!.sdp });
    const answer = await until(() => signals.find((s) => s.viewerId === 'bbbbbbbbbbbbbbbb' && s.message.type === 'answer' && s.message.pc === 1)?.message, {
      timeoutMs: 5_000,
      what: "the host's answer to pc 1",
    });
    if (answer.type !== 'answer') throw new Error('no answer');
    await second.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    for (const s of signals)
      if (s.viewerId === 'bbbbbbbbbbbbbbbb' && s.message.type === 'ice-candidate' && s.message.pc === 1) await second.addIceCandidate(s.message.candidate);
    await until(() => channel.readyState === 'open' || undefined, { timeoutMs: 10_000, what: 'pc 1 channel' });
    const report = await until(() => reports.find((r) => r.viewerId === 'bbbbbbbbbbbbbbbb' && r.state === 'connected'), {
      timeoutMs: 10_000,
      what: 'the reloaded viewer connected',
    });
    expect(report).toMatchObject({ resumed: true });
  });

  it('prepares nothing for a viewer without a channel', async () => {
    const signals: Array<{ viewerId: string; message: HostSignal }> = [];
    host = startHost(signals, []);
    host.handleSignal('dddddddddddddddd', { type: 'prepare', sdp: await offerOf(newPc()) });
    await new Promise((r) => setTimeout(r, 500));
    expect(signals).toEqual([]);
  });
});

describe('the store of prepared peer connections', () => {
  it('keeps one per preparing viewer and at most its bound, the oldest going first', async () => {
    const closed: RtcPeerConnection[] = [];
    const store = createParkedPeers({ max: 2, closePc: (pc) => closed.push(pc) });
    const entry = async (preparer: string) => {
      const pc = newPc();
      return { preparer, pc, offer: await offerOf(pc), loopback: false, channels: [] };
    };
    const a = await entry('a');
    store.park(a);
    const a2 = await entry('a');
    store.park(a2);
    expect(closed).toEqual([a.pc]);
    const b = await entry('b');
    store.park(b);
    const c = await entry('c');
    store.park(c);
    expect(closed).toEqual([a.pc, a2.pc]);
    expect(store.size).toBe(2);
    store.close();
    expect(closed).toEqual([a.pc, a2.pc, b.pc, c.pc]);
  });

  it('gives a parked peer connection only to an offer with its credentials and fingerprint, signed as it was prepared, once', async () => {
    const closed: RtcPeerConnection[] = [];
    const store = createParkedPeers({ max: 4, closePc: (pc) => closed.push(pc) });
    const pc = newPc();
    const offer = await offerOf(pc);
    const otherOffer = await offerOf(newPc());
    expect(offerIdentity(offer)).toBeDefined();
    expect(offerIdentity(otherOffer)).not.toBe(offerIdentity(offer));

    const token = store.park({ preparer: 'a', pc, offer, loopback: false, channels: [] });
    expect(store.claim('A'.repeat(22), offer, false)).toBeUndefined();
    expect(store.claim(token, offer, false)?.pc).toBe(pc);
    expect(store.claim(token, offer, false)).toBeUndefined();

    // Another offer's credentials, or a MAC where the preparation had none: refused, and the parked one closed.
    const second = newPc();
    const t2 = store.park({ preparer: 'b', pc: second, offer, loopback: false, channels: [] });
    expect(store.claim(t2, otherOffer, false)).toBeUndefined();
    expect(closed).toEqual([second]);
    const third = newPc();
    const t3 = store.park({ preparer: 'c', pc: third, offer, loopback: false, channels: [] });
    expect(store.claim(t3, offer, true)).toBeUndefined();
    expect(closed).toEqual([second, third]);
  });

  it('waits a short while only, once the viewer that prepared one has left', async () => {
    const closed: RtcPeerConnection[] = [];
    const store = createParkedPeers({ max: 4, afterLeaveMs: 100, closePc: (pc) => closed.push(pc) });
    const mine = newPc();
    const others = newPc();
    store.park({ preparer: 'a', pc: mine, offer: await offerOf(mine), loopback: false, channels: [] });
    const offerB = await offerOf(others);
    const kept = store.park({ preparer: 'b', pc: others, offer: offerB, loopback: false, channels: [] });
    store.preparerLeft('a');
    await until(() => closed.length === 1 || undefined, { timeoutMs: 2_000, what: "the left viewer's one closed" });
    expect(closed).toEqual([mine]);
    expect(store.size).toBe(1);
    // The other viewer's is still there to claim.
    expect(store.claim(kept, offerB, false)?.pc).toBe(others);
  });

  it('closes a parked peer connection nobody claims in time', async () => {
    const closed: RtcPeerConnection[] = [];
    const store = createParkedPeers({ max: 4, ttlMs: 100, closePc: (pc) => closed.push(pc) });
    const pc = newPc();
    const token = store.park({ preparer: 'a', pc, offer: await offerOf(pc), loopback: false, channels: [] });
    await until(() => closed.length === 1 || undefined, { timeoutMs: 2_000, what: 'the unclaimed one closed' });
    expect(store.claim(token, pc.localDescription?.sdp ?? '', false)).toBeUndefined();
    expect(store.size).toBe(0);
  });
});
