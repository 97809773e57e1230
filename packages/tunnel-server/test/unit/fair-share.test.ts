/**
 * The fair-share rule shared by relay streams and signaling sockets: a
 * viewer holds at most a quarter of what the others leave free, at most its
 * cap, at least one slot while any is free; the addresses of one network
 * (IPv4 /24, IPv6 /56) together hold at most a quarter of what other
 * networks leave free.
 */
import { createFairShares, fairShare, holderOf } from '../../src/sessions/fair-share';

describe('fairShare', () => {
  it('is a quarter of the slots others leave free, capped, and never below one', () => {
    expect(fairShare(1024, 0, 256)).toBe(256);
    expect(fairShare(1024, 512, 256)).toBe(128);
    expect(fairShare(64, 0, 8)).toBe(8);
    expect(fairShare(64, 60, 8)).toBe(1);
    expect(fairShare(64, 64, 8)).toBe(1);
  });
});

describe('createFairShares', () => {
  /** Takes slots for `address` until refused; how many it got, and why it stopped. */
  const takeAll = (shares: ReturnType<typeof createFairShares<string>>, address: string, capacity: number, cap: number) => {
    let n = 0;
    let verdict = shares.acquire('s', holderOf(address), capacity, cap);
    while (verdict === 'taken' && n <= capacity) {
      n++;
      verdict = shares.acquire('s', holderOf(address), capacity, cap);
    }
    return { n, verdict };
  };

  it('leaves a slot for a newcomer after addresses of separate networks that each took every slot they could', () => {
    const shares = createFairShares<string>();
    const taken = Array.from({ length: 24 }, (_, i) => takeAll(shares, `10.0.${i}.1`, 1024, 256).n);
    expect(taken.slice(0, 8)).toEqual([256, 192, 144, 108, 81, 60, 45, 34]);
    expect(shares.total('s')).toBeLessThan(1024);
    expect(takeAll(shares, '192.0.2.1', 1024, 256).n).toBeGreaterThanOrEqual(1);
  });

  it('lets the addresses of one IPv4 /24 together hold what a network may, and says so', () => {
    const shares = createFairShares<string>();
    const taken = Array.from({ length: 32 }, (_, i) => takeAll(shares, `10.0.7.${i + 1}`, 1024, 64));
    expect(taken.slice(0, 5).map((t) => t.n)).toEqual([64, 64, 64, 64, 0]);
    expect(taken[4]!.verdict).toBe('network');
    expect(shares.total('s')).toBe(256);
    expect(takeAll(shares, '10.0.8.1', 1024, 64)).toEqual({ n: 64, verdict: 'source' });
  });

  it('counts the /64s of one IPv6 /56 as one network', () => {
    const shares = createFairShares<string>();
    for (let i = 0; i < 32; i++) takeAll(shares, `2001:db8:7:${(0x40 + i).toString(16)}::1`, 1024, 64);
    expect(shares.total('s')).toBe(256);
    expect(takeAll(shares, '2001:db8:7:100::1', 1024, 64).n).toBe(64);
  });

  it('never lets the group hold more than its capacity', () => {
    const shares = createFairShares<string>();
    for (let i = 0; i < 100; i++) takeAll(shares, `10.${i}.1.1`, 64, 8);
    expect(shares.total('s')).toBe(64);
    expect(shares.acquire('s', holderOf('192.0.2.1'), 64, 8)).toBe('full');
  });

  it('gives slots back, to the network too, and forgets a group that holds nothing', () => {
    const shares = createFairShares<string>();
    expect(takeAll(shares, '10.0.0.1', 16, 16)).toEqual({ n: 4, verdict: 'source' });
    expect(takeAll(shares, '10.0.0.2', 16, 16)).toEqual({ n: 0, verdict: 'network' });
    for (let i = 0; i < 4; i++) shares.release('s', holderOf('10.0.0.1'));
    expect(shares.total('s')).toBe(0);
    expect(shares.count('s', holderOf('10.0.0.1'))).toBe(0);
    // Releasing what was never taken changes nothing.
    shares.release('s', holderOf('10.0.0.1'));
    expect(shares.total('s')).toBe(0);
    expect(takeAll(shares, '10.0.0.2', 16, 16).n).toBe(4);
  });
});
