/**
 * In-memory session registry: a session lives while its agent is attached and `graceMs` after it drops, so a
 * reconnecting agent (with the resume secret) keeps its URL.
 */
import type { AccessLabel, Connection, ServerToAgent } from '@wingman/protocol';
import type { SessionAccess } from '../access/viewer-access';
import type { SessionLink } from '../access/link-access';
import type { SessionAddressRules } from '../access/address-rules';
import type { SessionViewers } from './session-viewers';
import { LRUCache } from 'lru-cache';
import { constantTimeEqual, createResumeSecret } from './session-id';
import type { SessionIds } from './session-key';

export interface AgentLink {
  readonly connection: Connection;
  /** Closes the agent's socket (GOAWAY with `code`). */
  close(code: 'ERR_GOING_AWAY' | 'ERR_PROTOCOL', reason: string): void;
  /** The agent offered P2P in its `register` (false with `wingman --no-p2p`). */
  readonly p2p: boolean;
  /** False when its socket is not open. */
  sendControl(message: ServerToAgent): boolean;
}

export interface Session {
  readonly id: string;
  readonly resumeSecret: string;
  /** Undefined while the session is in its grace period. */
  agent: AgentLink | undefined;
  // What the latest register set up; undefined: not asked for (the link alone gives access).
  access?: SessionAccess | undefined;
  link?: SessionLink | undefined;
  addressRules?: SessionAddressRules | undefined;
  allowEmails?: readonly string[] | undefined;
  /** When the session ends (`wingman http --expires`), ms since epoch; undefined: it lives while its agent does. */
  expiresAt?: number | undefined;
  viewers?: SessionViewers | undefined;
  /** `wingman http --private`: nothing of the session is relayed, only Wingman's own paths are served. */
  private?: boolean | undefined;
  /** When the agent's TURN credentials were minted (registered, ice-servers), ms since epoch. */
  agentIceAt?: number | undefined;
  /** How viewers got in under the latest register; a resume that changes it resets the viewers. */
  accessMode?: AccessLabel | undefined;
}

/** Ended (expired) ids remembered, so viewers get "link expired" rather than "no such session": 10 000 cost under a megabyte. */
const ENDED_SESSIONS_KEPT = 10_000;
/** How long an ended session's id is remembered, ms (a day: reviewers open old links the next morning). */
export const ENDED_SESSION_MEMORY_MS = 86_400_000;

interface SessionRegistryOptions {
  graceMs: number;
  /** A session dropped after its grace period. */
  onExpire?: (session: Session) => void;
  /** An agent was attached (created, adopted or resumed). */
  onAttach?: (session: Session) => void;
  /** An agent dropped and its grace period began. */
  onDetach?: (session: Session) => void;
  /** How ids derive from resume secrets (session-key.ts). */
  sessionIds: SessionIds;
}

export type ResumeResult = { kind: 'resumable'; session: Session } | { kind: 'busy' } | { kind: 'unknown' };

export type SessionRegistry = ReturnType<typeof createSessionRegistry>;

export function createSessionRegistry(options: SessionRegistryOptions) {
  const sessions = new Map<string, Session>();
  const graceTimers = new Map<string, NodeJS.Timeout>();
  const expiryTimers = new Map<string, NodeJS.Timeout>();
  const endedIds = new LRUCache<string, true>({ max: ENDED_SESSIONS_KEPT, ttl: ENDED_SESSION_MEMORY_MS });

  const stop = (timers: Map<string, NodeJS.Timeout>, id: string) => {
    clearTimeout(timers.get(id));
    timers.delete(id);
  };
  /** Forgets `session` and its timers; false when it is not the session held under its id. */
  const drop = (session: Session): boolean => {
    if (sessions.get(session.id) !== session) return false;
    stop(graceTimers, session.id);
    stop(expiryTimers, session.id);
    return sessions.delete(session.id);
  };

  function end(session: Session): void {
    if (!drop(session)) return;
    endedIds.set(session.id, true);
    const agent = session.agent;
    session.agent = undefined;
    if (agent) {
      agent.sendControl({ type: 'error', code: 'ERR_SESSION_EXPIRED', message: 'the session reached its expiry (wingman http --expires)' });
      agent.close('ERR_GOING_AWAY', 'session expired');
    }
    options.onExpire?.(session);
  }

  const add = (id: string, resumeSecret: string, agent: AgentLink): Session => {
    const session: Session = { id, resumeSecret, agent };
    sessions.set(id, session);
    options.onAttach?.(session);
    return session;
  };

  return {
    /** Creates a session for a newly registered agent; `expiresAt` (ms since epoch) is bound into its resume secret (session-id.ts). */
    create(agent: AgentLink, expiresAt?: number): Session {
      let resumeSecret = createResumeSecret(expiresAt);
      let id = options.sessionIds.idFor(resumeSecret);
      // 130 pseudo-random bits never collide in practice; the loop is a cheap guarantee, bounded.
      for (let i = 0; i < 8 && sessions.has(id); i++) id = options.sessionIds.idFor((resumeSecret = createResumeSecret(expiresAt)));
      if (sessions.has(id)) throw new Error('could not draw a fresh session id');
      return add(id, resumeSecret, agent);
    },

    /**
     * Creates a session with the id and resume secret it had on another node of the cluster (the agent resumed here);
     * the caller has checked the secret against the shared directory. Throws if the id is held here.
     */
    adopt(sessionId: string, resumeSecret: string, agent: AgentLink): Session {
      if (sessions.has(sessionId)) throw new Error(`session ${sessionId} is already held here`);
      return add(sessionId, resumeSecret, agent);
    },

    /** Forgets a session at once (another node took it over); no onExpire. */
    evict(session: Session): void {
      drop(session);
    },

    /**
     * Finds the session an agent asks to resume, without changing it. A session in its grace period with a matching
     * secret is 'resumable'; a live one with the right secret is 'busy'; a wrong secret or an expired session is
     * 'unknown' (indistinguishable to the caller).
     */
    findForResume(sessionId: string, resumeSecret: string): ResumeResult {
      const session = sessions.get(sessionId);
      if (!session || !constantTimeEqual(resumeSecret, session.resumeSecret)) return { kind: 'unknown' };
      return session.agent ? { kind: 'busy' } : { kind: 'resumable', session };
    },

    /** Re-attaches an agent to a session found by findForResume (ends its grace period). */
    attach(session: Session, agent: AgentLink): void {
      if (session.agent || sessions.get(session.id) !== session) throw new Error(`session ${session.id} cannot be attached`);
      stop(graceTimers, session.id);
      session.agent = agent;
      options.onAttach?.(session);
    },

    get(sessionId: string): Session | undefined {
      return sessions.get(sessionId);
    },

    /** The agent dropped: start the grace period (only if `agent` is still the session's agent). */
    detach(session: Session, agent: AgentLink): void {
      if (session.agent !== agent || sessions.get(session.id) !== session) return;
      session.agent = undefined;
      stop(graceTimers, session.id);
      const timer = setTimeout(() => {
        if (session.agent || !drop(session)) return;
        options.onExpire?.(session);
      }, options.graceMs);
      // The grace period must not keep a shutting-down process alive.
      timer.unref();
      graceTimers.set(session.id, timer);
      options.onDetach?.(session);
    },

    stats(): { live: number; grace: number } {
      let live = 0;
      for (const s of sessions.values()) if (s.agent) live++;
      return { live, grace: sessions.size - live };
    },

    all(): Session[] {
      return [...sessions.values()];
    },

    /**
     * Ends the session at `expiresAt` (ms since epoch): the agent gets ERR_SESSION_EXPIRED and is closed, the session
     * is forgotten (onExpire) and its id is remembered as ended. A session that has a deadline keeps it.
     */
    setExpiry(session: Session, expiresAt: number): void {
      if (session.expiresAt !== undefined || sessions.get(session.id) !== session) return;
      session.expiresAt = expiresAt;
      // setTimeout holds at most 2^31-1 ms (24.8 days); a longer wait is re-armed.
      const arm = () => {
        const left = expiresAt - Date.now();
        if (left <= 0) return end(session);
        const timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
        timer.unref();
        expiryTimers.set(session.id, timer);
      };
      arm();
    },

    /** The id belonged to a session that reached its deadline (within ENDED_SESSION_MEMORY_MS). */
    ended(sessionId: string): boolean {
      return endedIds.has(sessionId);
    },

    /** Clears timers and forgets every session. */
    clear(): void {
      for (const t of [...graceTimers.values(), ...expiryTimers.values()]) clearTimeout(t);
      expiryTimers.clear();
      endedIds.clear();
      graceTimers.clear();
      sessions.clear();
    },
  };
}
