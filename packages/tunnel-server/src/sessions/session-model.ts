/**
 * The server's sessions: the registry (registry.ts), the sessions held per agent token (token-sessions.ts) and the
 * ids whose developer stopped sharing, kept consistent as sessions expire, end and come back. What else must hear of
 * these events (a cluster node) subscribes through `events`.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger';
import { createSessionRegistry, type Session } from './registry';
import type { SessionIds } from './session-key';
import { createTokenSessions } from './token-sessions';

/** Stopped session ids remembered (26 bytes each: well under a megabyte). */
const STOPPED_SESSIONS_KEPT = 10_000;
/** How long a stopped session's id is remembered, ms (a week: a review can pause over a weekend). */
const STOPPED_SESSION_MEMORY_MS = 7 * 86_400_000;

/**
 * Ids of sessions whose developer stopped sharing (no agent back within the grace period), so a reviewer is told so on
 * a page that keeps retrying, rather than "no such session". Bounded in count and age; forgotten when the session
 * comes back, and with the process.
 */
export type StoppedSessions = LRUCache<string, true>;

/** Listeners of session events beyond the model itself, read at each event (one may be set after the model is made). */
interface SessionEvents {
  expired?: (session: Session) => void;
  attached?: (session: Session) => void;
  detached?: (session: Session) => void;
}

export function createSessionModel(options: { sessionIds: SessionIds; graceMs: number; sessionsPerToken: number; logger: Logger }) {
  const { logger } = options;
  const events: SessionEvents = {};
  const tokenSessions = createTokenSessions(options.sessionsPerToken);
  const stopped: StoppedSessions = new LRUCache({ max: STOPPED_SESSIONS_KEPT, ttl: STOPPED_SESSION_MEMORY_MS });
  const registry = createSessionRegistry({
    sessionIds: options.sessionIds,
    graceMs: options.graceMs,
    onExpire: (session) => {
      tokenSessions.remove(session);
      if (!registry.ended(session.id)) stopped.set(session.id, true);
      logger.info(
        { sessionId: session.id },
        registry.ended(session.id) ? 'session ended at its expiry (--expires)' : 'session expired (no agent within the grace period)',
      );
      events.expired?.(session);
    },
    onAttach: (session) => {
      stopped.delete(session.id);
      events.attached?.(session);
    },
    onDetach: (session) => events.detached?.(session),
  });
  return { registry, tokenSessions, stopped, events };
}
