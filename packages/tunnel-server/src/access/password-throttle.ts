/**
 * Online password guessing on one password-protected session, bounded per source address and per session, throttling
 * guessers and never the session (docs/operations.md §Viewer passwords): a source at MAX_PASSWORD_FAILURES_PER_SOURCE
 * waits for the window to end (even with the right password); once the session took MAX_PASSWORD_FAILURES_PER_SESSION,
 * every source that failed waits while a new one keeps one try. Memory: MAX_TRACKED_SOURCES sources a window, then
 * per network (networkKey), then one shared bucket, so 1 024 guessing /64s make their networks wait, not a reviewer.
 */
import { networkKey, OVERFLOW_SOURCE, sourceKey } from '../http/source-key';

/** Window over which wrong passwords are counted, ms. */
export const PASSWORD_ATTEMPT_WINDOW_MS = 60_000;
/** Wrong passwords one source (IPv4 address, IPv6 /64) may send per window before it waits. */
export const MAX_PASSWORD_FAILURES_PER_SOURCE = 10;
/**
 * Wrong passwords per session per window, all sources together, after which only sources without a failure in the
 * window may try (once each): online guessing stays near 100 a minute however many addresses guess.
 */
export const MAX_PASSWORD_FAILURES_PER_SESSION = 100;
/**
 * Sources tracked per session and window, and networks tracked for the sources beyond them: failures from a source
 * beyond it count for its network, from a network beyond it in one bucket (OVERFLOW_SOURCE), so memory stays bounded
 * under a flood of addresses (and a new source beyond it counts as one that failed once its bucket has).
 */
export const MAX_TRACKED_SOURCES = 1_024;

export type PasswordThrottle = ReturnType<typeof createPasswordThrottle>;

/** `trackedSources`: networks too. */
export function createPasswordThrottle({
  perSource = MAX_PASSWORD_FAILURES_PER_SOURCE,
  perSession = MAX_PASSWORD_FAILURES_PER_SESSION,
  trackedSources = MAX_TRACKED_SOURCES,
}: { perSource?: number; perSession?: number; trackedSources?: number } = {}) {
  let windowStart = 0;
  let total = 0;
  // Failures per tracked source, and per network (or OVERFLOW_SOURCE) for the sources beyond them.
  const bySource = new Map<string, number>();
  const byNetwork = new Map<string, number>();

  const roll = (now: number) => {
    if (now - windowStart < PASSWORD_ATTEMPT_WINDOW_MS) return;
    windowStart = now;
    total = 0;
    bySource.clear();
    byNetwork.clear();
  };
  /** Where `source`'s failures count: its own entry, its network's, or the shared bucket. */
  const bucket = (source: string): { counts: Map<string, number>; key: string } => {
    const key = sourceKey(source);
    if (bySource.has(key) || bySource.size < trackedSources) return { counts: bySource, key };
    const network = networkKey(source);
    return { counts: byNetwork, key: byNetwork.has(network) || byNetwork.size < trackedSources ? network : OVERFLOW_SOURCE };
  };
  const waitS = (now: number) => Math.max(1, Math.ceil((windowStart + PASSWORD_ATTEMPT_WINDOW_MS - now) / 1000));

  return {
    /** Seconds until `source` may try again, or 0 when it may try now. */
    retryAfterS(source: string, now: number): number {
      roll(now);
      const { counts, key } = bucket(source);
      const failures = counts.get(key) ?? 0;
      // Over the session's budget only a source that has not failed in this window tries (once).
      return failures >= perSource || (total >= perSession && failures > 0) ? waitS(now) : 0;
    },
    /** Records a wrong password from `source`. */
    failed(source: string, now: number): void {
      roll(now);
      const { counts, key } = bucket(source);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    },
  };
}
