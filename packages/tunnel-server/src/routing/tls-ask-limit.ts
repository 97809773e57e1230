/**
 * How often one address may ask the on-demand TLS permission check (docs/operations.md §On-demand TLS permission): a
 * token bucket per source (sourceKey) of TLS_ASK_BURST, refilled at TLS_ASK_PER_SECOND; unthrottled, one could probe
 * ~4 400 names a second and learn which stable names are held. Loopback (the TLS terminator, asking for every visitor)
 * is not counted. Buckets that refilled are forgotten, least recently used first; past MAX_TLS_ASK_SOURCES the rest
 * share one bucket.
 */
import { isIPv4 } from 'node:net';
import { OVERFLOW_SOURCE, sourceKey } from '../http/source-key';

/** Asks one address may send at once: a terminator on another host starting with a batch of new sessions. */
export const TLS_ASK_BURST = 64;
/** Asks per second refilled per address: far above new sessions a second, far below a probe's thousands. */
export const TLS_ASK_PER_SECOND = 16;
/** Addresses with a bucket at once (a bucket is ~100 bytes: well under 1 MiB). */
export const MAX_TLS_ASK_SOURCES = 4_096;

export type TlsAskLimit = ReturnType<typeof createTlsAskLimit>;

interface Bucket {
  tokens: number;
  last: number;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
function isLoopback(address: string): boolean {
  const a = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || (isIPv4(a) && a.startsWith('127.'));
}

export function createTlsAskLimit(now: () => number = Date.now) {
  // In order of last use: the first entries are the least recently used.
  const buckets = new Map<string, Bucket>();
  const refillMs = (TLS_ASK_BURST / TLS_ASK_PER_SECOND) * 1000;
  return {
    /** Takes one ask for `address`; false when it must wait (429). */
    take(address: string): boolean {
      if (isLoopback(address)) return true;
      const t = now();
      for (const [key, b] of buckets) {
        if (t - b.last < refillMs) break;
        buckets.delete(key);
      }
      let key = sourceKey(address);
      if (!buckets.has(key) && buckets.size >= MAX_TLS_ASK_SOURCES) key = OVERFLOW_SOURCE;
      const b = buckets.get(key);
      buckets.delete(key);
      const tokens = b ? Math.min(TLS_ASK_BURST, b.tokens + ((t - b.last) / 1000) * TLS_ASK_PER_SECOND) : TLS_ASK_BURST;
      const allowed = tokens >= 1;
      buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, last: t });
      return allowed;
    },
  };
}
