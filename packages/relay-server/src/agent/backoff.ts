/** Capped exponential backoff with jitter for reconnects. */
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS } from './constants';

export interface BackoffOptions {
  /** First delay, ms. Default BACKOFF_INITIAL_MS. */
  initialMs?: number;
  /** Cap, ms. Default BACKOFF_MAX_MS. */
  maxMs?: number;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): initial × 2^(attempt−1),
 * capped, then drawn uniformly from [50 %, 100 %] of that ("equal jitter") so
 * many agents dropped by one server restart do not return in lockstep.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? BACKOFF_INITIAL_MS;
  const max = options.maxMs ?? BACKOFF_MAX_MS;
  const exp = Math.min(max, initial * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + random() * (exp / 2));
}
