/** A token bucket: `capacity` takes at once, refilled continuously at `perSecond`; what the per-viewer and per-address rate limits count with. */

export interface TokenBucket {
  /** Takes one token; false (nothing taken) when less than one is left. */
  take(): boolean;
  /** Whether the bucket has refilled to `capacity`: one that has is no different from a new one, so a map of buckets may forget it. */
  full(): boolean;
}

export function createTokenBucket(capacity: number, perSecond: number, now: () => number = Date.now): TokenBucket {
  let tokens = capacity;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - last) / 1000) * perSecond);
    last = t;
  };
  return {
    take() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    full() {
      refill();
      return tokens >= capacity;
    },
  };
}
