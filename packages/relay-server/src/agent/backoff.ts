/** The agent's reconnect backoff: the shared policy of @wingman/protocol with the agent's defaults, jittered. */
import { backoffDelay as sharedBackoffDelay } from '@wingman/protocol';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS } from './constants';

export interface BackoffOptions {
  /** First delay, ms. Default BACKOFF_INITIAL_MS. */
  initialMs?: number;
  /** Cap, ms. Default BACKOFF_MAX_MS. */
  maxMs?: number;
}

/** Delay before reconnect attempt `attempt` (1-based), with equal jitter: many agents dropped by one server restart do not return in lockstep. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  return sharedBackoffDelay(attempt, { initialMs: options.initialMs ?? BACKOFF_INITIAL_MS, maxMs: options.maxMs ?? BACKOFF_MAX_MS, jitter: true }, random);
}
