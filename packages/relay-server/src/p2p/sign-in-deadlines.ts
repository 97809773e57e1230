/**
 * When each viewer's sign-in ends, by the agent's own clock (sessions with a
 * sign-in gate): the server announces a viewer with the time left of its
 * latest sign-in (`signInEndsInMs`, again when it signs in anew), and at that
 * moment the viewer's P2P channels end, as its relayed requests do at the
 * server. Kept here rather than waited for from the server, because a P2P
 * channel never crosses it: the end holds while the agent's link to the
 * server is down and after the server restarted.
 */

/** Viewers whose sign-in end is kept, the oldest announced forgotten first: the server tracks at most 1,000 viewers per session. */
export const MAX_SIGN_IN_DEADLINES = 1_024;

export interface SignInDeadlines {
  /** Viewer `visitorId`'s sign-in ends `inMs` from now (replaces what was known). */
  set(visitorId: string, inMs: number): void;
  close(): void;
}

/** `end`: called once per deadline reached, with the visitor whose sign-in ended. */
export function createSignInDeadlines(end: (visitorId: string) => void): SignInDeadlines {
  const timers = new Map<string, NodeJS.Timeout>();
  const forget = (visitorId: string) => {
    clearTimeout(timers.get(visitorId));
    timers.delete(visitorId);
  };
  return {
    set(visitorId, inMs) {
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
