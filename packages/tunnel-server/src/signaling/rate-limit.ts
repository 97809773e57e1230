/** A token bucket: `capacity` messages at once, refilled at `perSecond`. */
export interface TokenBucket {
  take(): boolean;
}

export function createTokenBucket(capacity: number, perSecond: number, now: () => number = Date.now): TokenBucket {
  let tokens = capacity;
  let last = now();
  return {
    take() {
      const t = now();
      tokens = Math.min(capacity, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
