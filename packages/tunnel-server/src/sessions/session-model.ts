/**
 * The server's sessions: the registry (registry.ts), the sessions held per agent token (token-sessions.ts) and the
 * ids whose developer stopped sharing (stopped-sessions.ts), kept consistent as sessions expire, end and come back.
 * What else must hear of these events (a cluster node) subscribes through `events`.
 */
import type { Logger } from '../logger';
import { createSessionRegistry, type Session, type SessionRegistry } from './registry';
import type { SessionIds } from './session-key';
import { createStoppedSessions, type StoppedSessions } from './stopped-sessions';
import { createTokenSessions, type TokenSessions } from './token-sessions';

/** Listeners of session events beyond the model itself, read at each event (one may be set after the model is made). */
interface SessionEvents {
  expired?: (session: Session) => void;
  attached?: (session: Session) => void;
  detached?: (session: Session) => void;
}

interface SessionModelOptions {
  sessionIds: SessionIds;
  graceMs: number;
  sessionsPerToken: number;
  logger: Logger;
}

interface SessionModel {
  registry: SessionRegistry;
  tokenSessions: TokenSessions;
  stopped: StoppedSessions;
  events: SessionEvents;
}

export function createSessionModel(options: SessionModelOptions): SessionModel {
  const { logger } = options;
  const events: SessionEvents = {};
  const tokenSessions = createTokenSessions(options.sessionsPerToken);
  const stopped = createStoppedSessions();
  const registry = createSessionRegistry({
    sessionIds: options.sessionIds,
    graceMs: options.graceMs,
    onExpire: (session) => {
      tokenSessions.remove(session);
      if (!registry.ended(session.id)) stopped.add(session.id);
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
