/**
 * When the sign-ins of a session's viewers end (`--allow-email`): the gate refuses each later request itself; what a
 * viewer holds open here (signaling, relayed WebSockets) ends through `end` when its latest sign-in ends, unless it
 * signed in again. One timer per session, armed for the earliest.
 */
import type { Session } from '../sessions/registry';
import type { ViewerRecord } from '../sessions/session-viewers';

export function createSignInEnds(end: (session: Session, v: ViewerRecord) => void) {
  /** Arms the session's timer for `at` unless it fires earlier already. */
  const armAt = (session: Session, at: number) => {
    const viewers = session.viewers!;
    if (viewers.signInEnds && viewers.signInEnds.at <= at) return;
    if (viewers.signInEnds) clearTimeout(viewers.signInEnds.timer);
    const timer = setTimeout(() => fire(session), Math.max(0, at - Date.now()));
    timer.unref();
    viewers.signInEnds = { at, timer };
  };

  const fire = (session: Session) => {
    const viewers = session.viewers;
    if (!viewers) return;
    viewers.signInEnds = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const v of [...viewers.records.values()]) {
      if (v.signInUntil === undefined) continue;
      if (v.signInUntil > now) {
        next = Math.min(next, v.signInUntil);
        continue;
      }
      v.signInUntil = undefined;
      end(session, v);
    }
    if (next !== Infinity) armAt(session, next);
  };

  return {
    /** Viewer `v` presented a sign-in that ends at `until` (ms since the epoch). True when that is later than what was known (announce it). */
    note(session: Session, v: ViewerRecord, until: number): boolean {
      if (v.signInUntil !== undefined && v.signInUntil >= until) return false;
      v.signInUntil = until;
      armAt(session, until);
      return true;
    },
    clear(session: Session): void {
      clearTimeout(session.viewers?.signInEnds?.timer);
      if (session.viewers) session.viewers.signInEnds = undefined;
    },
  };
}
