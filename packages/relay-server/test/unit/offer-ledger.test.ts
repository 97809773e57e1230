/**
 * What the agent keeps of viewers' negotiations for a P2P host that dies
 * (offer-ledger.ts): unanswered offers are replayed to the next host, answered
 * ones are refused, and every kept list is bounded.
 */
import type { ViewerSignal } from '@wingman/protocol';
import { HOLD_RESTART_MAX_MS, HOLD_SIGNALS_PER_VIEWER, HOLD_VIEWERS_MAX, OfferLedger } from '../../src/p2p/offer-ledger';

const offer: ViewerSignal = { type: 'offer', sdp: 'v=0' };
const candidate = (n: number): ViewerSignal => ({ type: 'ice-candidate', candidate: { candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${n} typ host` } });

describe('OfferLedger', () => {
  it('replays what an unanswered viewer sent, in order, and refuses an answered one', () => {
    const l = new OfferLedger();
    l.note('a', offer);
    l.note('a', candidate(1));
    l.note('a', { type: 'connection-state', state: 'connecting' });
    l.note('b', offer);
    l.answered('b');
    l.note('b', candidate(2));
    expect(l.crashed(500)).toEqual({ replay: ['a'], refuse: ['b'] });
    expect(l.started()).toEqual([
      { viewerId: 'a', message: offer },
      { viewerId: 'a', message: candidate(1) },
    ]);
    // Replayed signals stay until the new host answers: a second crash replays them again.
    expect(l.crashed(1_000).replay).toEqual(['a']);
  });

  it('holds only while the restart is near, and only viewers that began with an offer', () => {
    const l = new OfferLedger();
    expect(l.hold('a', offer)).toBe(false);
    l.crashed(HOLD_RESTART_MAX_MS);
    expect(l.hold('a', offer)).toBe(true);
    expect(l.hold('stray', candidate(1))).toBe(false);
    expect(l.started()).toEqual([{ viewerId: 'a', message: offer }]);
    // Once started, nothing is held: signals go to the host.
    expect(l.hold('c', offer)).toBe(false);
    expect(l.crashed(HOLD_RESTART_MAX_MS + 1)).toEqual({ replay: [], refuse: ['a'] });
    expect(l.hold('d', offer)).toBe(false);
    expect(l.crashed(undefined)).toEqual({ replay: [], refuse: [] });
  });

  it('forgets a viewer that said bye, left, connected or was refused', () => {
    const l = new OfferLedger();
    l.note('a', offer);
    l.note('a', { type: 'bye' });
    l.note('b', offer);
    l.forget('b');
    expect(l.size()).toBe(0);
  });

  it('bounds the signals per viewer (a viewer over the bound is not replayed) and the viewers kept', () => {
    const l = new OfferLedger();
    l.note('a', offer);
    for (let i = 0; i < HOLD_SIGNALS_PER_VIEWER + 5; i++) l.note('a', candidate(i));
    for (let i = 0; i < HOLD_VIEWERS_MAX + 10; i++) l.note(`v${i}`, offer);
    expect(l.size()).toBe(HOLD_VIEWERS_MAX);
    const out = l.crashed(500);
    expect(out.refuse).toEqual(['a']);
    expect(out.replay).toHaveLength(HOLD_VIEWERS_MAX - 1);
    expect(l.hold('late', offer)).toBe(true);
    expect(l.hold('later', offer)).toBe(false);
    expect(l.started().length).toBe(HOLD_VIEWERS_MAX);
  });
});
