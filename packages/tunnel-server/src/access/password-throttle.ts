/**
 * Online password guessing on one password-protected session, bounded per
 * source address and per session, throttling guessers and never the
 * session. A source that fails MAX_PASSWORD_FAILURES_PER_SOURCE times waits
 * for the window to end (even with the right password: it learns nothing).
 * Once the session took MAX_PASSWORD_FAILURES_PER_SESSION wrong passwords in
 * a window, every source that failed in it waits too, while a source that
 * has not failed yet keeps one try: a reviewer arriving with the right
 * password gets in whatever strangers sent, and guessing stays bounded at
 * MAX_PASSWORD_FAILURES_PER_SESSION a window plus one per new address.
 * Viewers that hold the access cookie never reach this code.
 *
 * IPv6 sources count per /64: one host usually holds a whole /64, so
 * counting single addresses would let it guess without bound.
 * @see https://www.rfc-editor.org/rfc/rfc7421 (the /64 boundary)
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Window over which wrong passwords are counted, ms. */
export const PASSWORD_ATTEMPT_WINDOW_MS = 60_000;
/** Wrong passwords one source (IPv4 address, IPv6 /64) may send per window before it waits. */
export const MAX_PASSWORD_FAILURES_PER_SOURCE = 10;
/**
 * Wrong passwords per session per window, all sources together, after which
 * only sources without a failure in the window may try (once each): online
 * guessing stays near 100 a minute however many addresses guess.
 */
export const MAX_PASSWORD_FAILURES_PER_SESSION = 100;
/**
 * Sources tracked per session and window; failures from sources beyond it
 * share one bucket, so memory stays bounded under a flood of addresses (and
 * a new source beyond it counts as one that failed once the bucket has).
 */
export const MAX_TRACKED_SOURCES = 1_024;
/** The bucket of sources beyond MAX_TRACKED_SOURCES (and of unparsable ones). */
export const OVERFLOW_SOURCE = '*';

export interface PasswordThrottle {
  /** Seconds until `source` may try again, or 0 when it may try now. */
  retryAfterS(source: string, now: number): number;
  /** Records a wrong password from `source`. */
  failed(source: string, now: number): void;
}

/** The counting key of an address: IPv4 as is, IPv6 by its /64 prefix, anything else the overflow bucket. */
export function sourceKey(address: string): string {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case hex without leading zeros. */
function expandIPv6(a: string): string[] {
  const [head, tail] = a.toLowerCase().split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  // An embedded IPv4 tail (::1.2.3.4 forms) is two groups; only the first four groups matter here.
  const rightCount = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - rightCount).fill('0'), ...right];
  return all.map((g) => (g.includes('.') ? g : (parseInt(g, 16) || 0).toString(16)));
}

export interface PasswordThrottleLimits {
  /** Default MAX_PASSWORD_FAILURES_PER_SOURCE. */
  perSource: number;
  /** Default MAX_PASSWORD_FAILURES_PER_SESSION. */
  perSession: number;
  /** Default MAX_TRACKED_SOURCES. */
  trackedSources: number;
}

export function createPasswordThrottle(limits: Partial<PasswordThrottleLimits> = {}): PasswordThrottle {
  const perSource = limits.perSource ?? MAX_PASSWORD_FAILURES_PER_SOURCE;
  const perSession = limits.perSession ?? MAX_PASSWORD_FAILURES_PER_SESSION;
  const trackedSources = limits.trackedSources ?? MAX_TRACKED_SOURCES;
  let windowStart = 0;
  let total = 0;
  const bySource = new Map<string, number>();

  const roll = (now: number) => {
    if (now - windowStart < PASSWORD_ATTEMPT_WINDOW_MS) return;
    windowStart = now;
    total = 0;
    bySource.clear();
  };
  const bucket = (source: string) => {
    const key = sourceKey(source);
    return bySource.has(key) || bySource.size < trackedSources ? key : OVERFLOW_SOURCE;
  };
  const waitS = (now: number) => Math.max(1, Math.ceil((windowStart + PASSWORD_ATTEMPT_WINDOW_MS - now) / 1000));

  return {
    retryAfterS(source, now) {
      roll(now);
      const failures = bySource.get(bucket(source)) ?? 0;
      // Over the session's budget only a source that has not failed in this window tries (once).
      return failures >= perSource || (total >= perSession && failures > 0) ? waitS(now) : 0;
    },
    failed(source, now) {
      roll(now);
      const key = bucket(source);
      bySource.set(key, (bySource.get(key) ?? 0) + 1);
      total++;
    },
  };
}
