/**
 * Sessions held per agent token (live ones and those in their grace period): one token cannot fill the server's
 * memory with sessions (a token once registered 19 582 sessions in 22 s). A session counts against the token that
 * created it until it expires or leaves this node.
 */
import type { Session } from './registry';

/** Stable code of a registration refused because its token holds its quota of sessions. */
export const ERR_TOO_MANY_SESSIONS = 'ERR_TOO_MANY_SESSIONS';

export type TokenSessions = ReturnType<typeof createTokenSessions>;

export function createTokenSessions(limit: number) {
  const byToken = new Map<string, Set<Session>>();
  const tokenOf = new WeakMap<Session, string>();
  return {
    /** True when `token` holds its quota already. */
    full: (token: string): boolean => (byToken.get(token)?.size ?? 0) >= limit,
    /** Counts `session` against `token` (a session counts once, against its first token). */
    add(token: string, session: Session): void {
      if (tokenOf.has(session)) return;
      tokenOf.set(session, token);
      let set = byToken.get(token);
      if (!set) byToken.set(token, (set = new Set()));
      set.add(session);
    },
    remove(session: Session): void {
      const token = tokenOf.get(session);
      if (token === undefined) return;
      tokenOf.delete(session);
      const set = byToken.get(token);
      set?.delete(session);
      if (set?.size === 0) byToken.delete(token);
    },
  };
}
