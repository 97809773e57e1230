/**
 * Fair shares with a floor per network and push-out (relay streams,
 * signaling sockets): on a full group a network within its floor takes the
 * newest slot of the network holding the most, when that holds two more.
 */
import { holderOf } from '../../src/sessions/fair-share';
import { createPushOutShares, shareFloor, type SlotCut } from '../../src/sessions/push-out';

/** The group under test (64 slots), what each cut reported, and the ends of the slots cut. */
function group(end: (address: string) => void = () => {}) {
  const cuts: SlotCut<string>[] = [];
  const shares = createPushOutShares<string>((cut) => cuts.push(cut));
  const ended: string[] = [];
  const take = (address: string) => {
    const verdict = shares.acquire('s', holderOf(address), 64, 64);
    if (verdict !== 'taken') return { verdict, release: () => {} };
    const release = shares.hold('s', holderOf(address), () => {
      ended.push(address);
      end(address);
    });
    return { verdict, release };
  };
  /** One address takes a quarter (16 of 64), then 48 networks a slot each: the group is full. */
  const fill = () => {
    const big = Array.from({ length: 16 }, () => take('10.0.0.1'));
    expect(big.map((t) => t.verdict)).toEqual(Array(16).fill('taken'));
    for (let i = 0; i < 48; i++) expect(take(`10.${i + 1}.0.1`).verdict).toBe('taken');
    return big.map((t) => t.release);
  };
  return { shares, cuts, ended, take, fill };
}

describe('push-out shares', () => {
  it('is 1/32 of the slots, at least one', () => {
    expect(shareFloor(1024)).toBe(32);
    expect(shareFloor(64)).toBe(2);
    expect(shareFloor(16)).toBe(1);
  });

  it('cuts the newest slot of the network holding the most for a network within its floor, and frees it at once', () => {
    const g = group();
    g.fill();
    expect(g.take('10.200.0.1').verdict).toBe('taken');
    expect(g.cuts).toEqual([{ group: 's', cut: holderOf('10.0.0.1'), held: 16, taker: holderOf('10.200.0.1') }]);
    // Within its floor (2 of 64) the newcomer takes a second; past it, it waits like everyone else.
    expect(g.take('10.200.0.1').verdict).toBe('taken');
    expect(g.take('10.200.0.1').verdict).toBe('full');
    expect(g.ended).toEqual(['10.0.0.1', '10.0.0.1']);
    expect(g.shares.count('s', holderOf('10.0.0.1'))).toBe(14);
  });

  it('cuts nothing from a network holding fewer than two more', () => {
    const g = group();
    for (let i = 0; i < 64; i++) expect(g.take(`10.${i}.0.1`).verdict).toBe('taken');
    // Each network holds one: a newcomer holding none would only trade places.
    expect(g.take('10.200.0.1').verdict).toBe('full');
    expect(g.cuts).toEqual([]);
  });

  it('releases a cut slot once, though its holder lets go of it again when it closes', () => {
    const g = group();
    const releases = g.fill();
    expect(g.take('10.200.0.1').verdict).toBe('taken');
    expect(g.shares.count('s', holderOf('10.0.0.1'))).toBe(15);
    // The cut slot's own close comes later: it must not free a second slot.
    releases[15]!();
    expect(g.shares.count('s', holderOf('10.0.0.1'))).toBe(15);
    expect(g.take('10.201.0.1').verdict).toBe('taken');
    expect(g.shares.count('s', holderOf('10.0.0.1'))).toBe(14);
  });

  it('frees the slot and reports the error when ending the cut one throws', () => {
    const failure = new Error('socket gone');
    const g = group(() => {
      throw failure;
    });
    g.fill();
    expect(g.take('10.200.0.1').verdict).toBe('taken');
    expect(g.cuts.map((c) => c.error)).toEqual([failure]);
    expect(g.shares.count('s', holderOf('10.0.0.1'))).toBe(15);
  });
});
