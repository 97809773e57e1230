/**
 * The P2P host's side of the agent's exchange record: a claim goes to the
 * agent as `claim` and resolves with its `claimed` answer. Bounded in waiting
 * claims and time (MAX_PENDING_CLAIMS, CLAIM_ANSWER_TIMEOUT_MS); unanswered,
 * its exchange fails, as all do when the channel to the agent closes.
 */
import type { FromHost } from './host-ipc';

/** Claims waiting for the agent at once: far more than the host's peers have requests with a body in flight. */
export const MAX_PENDING_CLAIMS = 4_096;
/** Longest wait for the agent's answer, ms: it answers within a turn of its event loop. */
export const CLAIM_ANSWER_TIMEOUT_MS = 10_000;

/** The forwarder's exchange claims (ExchangeClaims), plus the agent's answers (`answered`) and their end when the channel to the agent closes (`closeAll`). */
export function createClaimClient(send: (m: Extract<FromHost, { t: 'claim' | 'claim-ended' }>) => void) {
  const waiting = new Map<number, { resolve(won: boolean | undefined): void; timer: NodeJS.Timeout }>();
  let next = 0;
  const settle = (seq: number, won: boolean | undefined) => {
    const claim = waiting.get(seq);
    if (!claim) return;
    waiting.delete(seq);
    clearTimeout(claim.timer);
    claim.resolve(won);
  };
  return {
    /** Resolves with the agent's answer; undefined when it gave none. */
    claim(viewer: string | undefined, id: string): Promise<boolean | undefined> {
      if (waiting.size >= MAX_PENDING_CLAIMS) return Promise.resolve(undefined);
      const seq = next++;
      return new Promise((resolve) => {
        waiting.set(seq, { resolve, timer: setTimeout(() => settle(seq, undefined), CLAIM_ANSWER_TIMEOUT_MS) });
        send({ t: 'claim', seq, viewerId: viewer ?? '', id });
      });
    },
    ended(viewer: string | undefined, id: string) {
      send({ t: 'claim-ended', viewerId: viewer ?? '', id });
    },
    answered: settle,
    closeAll() {
      for (const seq of [...waiting.keys()]) settle(seq, undefined);
    },
  };
}
