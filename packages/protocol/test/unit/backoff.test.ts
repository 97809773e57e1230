import { backoffDelay } from '../../src';

describe('backoffDelay', () => {
  const policy = { initialMs: 500, maxMs: 30_000, jitter: false };

  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(10_000, policy)).toBe(30_000);
    expect(backoffDelay(0, policy)).toBe(500);
  });

  it('with jitter draws from the upper half of the capped delay', () => {
    const jittered = { ...policy, jitter: true };
    expect(backoffDelay(3, jittered, () => 0)).toBe(1000);
    expect(backoffDelay(3, jittered, () => 0.999999)).toBe(2000);
    expect(backoffDelay(20, jittered, () => 0.5)).toBe(22_500);
  });
});
