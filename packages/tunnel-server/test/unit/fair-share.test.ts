/**
 * The fair-share rule shared by relay streams and signaling sockets: a
 * viewer holds at most a quarter of what the others leave free, at most its
 * cap, at least one slot while any is free.
 */
import { createFairShares, fairShare } from '../../src/sessions/fair-share';

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
  /** Takes slots for `source` until refused; how many it got. */
  const takeAll = (shares: ReturnType<typeof createFairShares<string>>, source: string, capacity: number, cap: number) => {
    let n = 0;
    while (n <= capacity && shares.acquire('s', source, capacity, cap)) n++;
    return n;
  };

  it('leaves a slot for a newcomer after addresses that each took every slot they could', () => {
    const shares = createFairShares<string>();
    const taken = Array.from({ length: 24 }, (_, i) => takeAll(shares, `10.0.0.${i}`, 1024, 256));
    expect(taken.slice(0, 8)).toEqual([256, 192, 144, 108, 81, 60, 45, 34]);
    expect(shares.total('s')).toBeLessThan(1024);
    expect(takeAll(shares, '192.0.2.1', 1024, 256)).toBeGreaterThanOrEqual(1);
  });

  it('never lets the group hold more than its capacity', () => {
    const shares = createFairShares<string>();
    for (let i = 0; i < 100; i++) takeAll(shares, `10.0.1.${i}`, 64, 8);
    expect(shares.total('s')).toBe(64);
    expect(shares.acquire('s', '192.0.2.1', 64, 8)).toBe(false);
  });

  it('gives slots back and forgets a group that holds nothing', () => {
    const shares = createFairShares<string>();
    expect(takeAll(shares, 'a', 16, 16)).toBe(4);
    for (let i = 0; i < 4; i++) shares.release('s', 'a');
    expect(shares.total('s')).toBe(0);
    expect(shares.count('s', 'a')).toBe(0);
    // Releasing what was never taken changes nothing.
    shares.release('s', 'a');
    expect(shares.total('s')).toBe(0);
    expect(takeAll(shares, 'a', 16, 16)).toBe(4);
  });
});
