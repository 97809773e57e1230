/**
 * The one capped exponential backoff of Wingman: the agent's reconnects, the
 * agent's P2P host restarts and the page's P2P retries all take their delays
 * from here. Isomorphic (no timers of its own).
 */

interface BackoffPolicy {
  /** Delay of the first retry, ms. */
  initialMs: number;
  /** Cap, ms. */
  maxMs: number;
  /**
   * Draw the delay uniformly from [50 %, 100 %] of the capped value ("equal
   * jitter") so many clients dropped by one restart do not return in
   * lockstep. Off for retries only one party makes (a page, a child process).
   * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
   */
  jitter: boolean;
}

/** Delay before retry `attempt` (1-based): initial × 2^(attempt−1), capped, with optional equal jitter. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return policy.jitter ? Math.round(exp / 2 + random() * (exp / 2)) : exp;
}
