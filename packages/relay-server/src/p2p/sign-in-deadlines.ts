/**
 * When each viewer's sign-in ends, by the agent's own clock: its P2P channels
 * end then, as its relayed requests do at the server. Kept here because a P2P
 * channel never crosses the server: the end holds while it is unreachable.
 */

/** Viewers whose sign-in end is kept, the oldest announced forgotten first: the server tracks at most 1,000 viewers per session. */
export const MAX_SIGN_IN_DEADLINES = 1_024;

/** `end`: called once per deadline reached, with the visitor whose sign-in ended. */
export function createSignInDeadlines(end: (visitorId: string) => void) {
  const timers = new Map<string, NodeJS.Timeout>();
  const forget = (visitorId: string) => {
    clearTimeout(timers.get(visitorId));
    timers.delete(visitorId);
  };
  return {
    /** Viewer `visitorId`'s sign-in ends `inMs` from now (replaces what was known). */
    set(visitorId: string, inMs: number) {
      forget(visitorId);
      const timer = setTimeout(() => {
        timers.delete(visitorId);
        end(visitorId);
      }, inMs);
      timer.unref();
      timers.set(visitorId, timer);
      if (timers.size > MAX_SIGN_IN_DEADLINES) forget(timers.keys().next().value as string);
    },
    close() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
