/**
 * The token bucket both rate limits count with: a burst of `capacity`, then the
 * refill rate, and `full()` once it is as good as new.
 */
import { createTokenBucket } from '../../src/http/token-bucket';

describe('createTokenBucket', () => {
  it('gives a burst of its capacity, then refills continuously at its rate, never above capacity', () => {
    let t = 5_000;
    const bucket = createTokenBucket(4, 2, () => t);
    expect(Array.from({ length: 5 }, () => bucket.take())).toEqual([true, true, true, true, false]);
    t += 499;
    expect(bucket.take()).toBe(false);
    t += 1;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    t += 60_000;
    expect(Array.from({ length: 5 }, () => bucket.take())).toEqual([true, true, true, true, false]);
  });

  it('is full only once refilled to its capacity', () => {
    let t = 0;
    const bucket = createTokenBucket(4, 2, () => t);
    expect(bucket.full()).toBe(true);
    bucket.take();
    bucket.take();
    expect(bucket.full()).toBe(false);
    t += 999;
    expect(bucket.full()).toBe(false);
    t += 1;
    expect(bucket.full()).toBe(true);
  });
});
