/**
 * Ids of sessions whose developer stopped sharing (no agent back within the grace period), so a reviewer is told so on
 * a page that keeps retrying, rather than "no such session". Bounded in count and age; forgotten when the session
 * comes back, and with the process.
 */

/** Stopped session ids remembered (26 bytes each: well under a megabyte). */
const STOPPED_SESSIONS_KEPT = 10_000;
/** How long a stopped session's id is remembered, ms (a week: a review can pause over a weekend). */
const STOPPED_SESSION_MEMORY_MS = 7 * 86_400_000;

export interface StoppedSessions {
  add(sessionId: string): void;
  /** The session came back (its agent registered again). */
  delete(sessionId: string): void;
  has(sessionId: string): boolean;
}

export function createStoppedSessions(now: () => number = Date.now): StoppedSessions {
  // Insertion order is age order: the oldest are dropped first.
  const stoppedAt = new Map<string, number>();
  return {
    add(id) {
      stoppedAt.delete(id);
      stoppedAt.set(id, now());
      for (const [old, at] of stoppedAt) {
        if (stoppedAt.size <= STOPPED_SESSIONS_KEPT && now() - at < STOPPED_SESSION_MEMORY_MS) break;
        stoppedAt.delete(old);
      }
    },
    delete(id) {
      stoppedAt.delete(id);
    },
    has(id) {
      const at = stoppedAt.get(id);
      if (at === undefined) return false;
      if (now() - at < STOPPED_SESSION_MEMORY_MS) return true;
      stoppedAt.delete(id);
      return false;
    },
  };
}
