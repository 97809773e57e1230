/**
 * Per-viewer stream quota: how many relay streams (HTTP requests and
 * WebSockets) one viewer may have open at once on one session. An agent
 * connection carries at most DEFAULT_MAX_CONCURRENT_STREAMS streams; the
 * session's fair-share rule (sessions/fair-share.ts) lets a viewer hold at
 * most a quarter of the streams the other viewers leave free, and at most
 * the configured limit, so one viewer, or a handful of addresses, holding
 * slow requests or idle WebSockets cannot make every other viewer's request
 * fail. A viewer over its share is refused (503, Retry-After) on its own new
 * requests only.
 *
 * Viewers are told apart by the address the server computes for per-viewer
 * limits (viewers/viewer-address.ts: trusted proxies, cluster hops), IPv6 per /64
 * (sourceKey, as the password throttle counts), and counted per network too
 * (an IPv4 /24, an IPv6 /56: the fair-share rule's networks).
 */
import type { Stream } from '@wingman/protocol';
import { createFairShares, holderOf, type ShareVerdict } from '../sessions/fair-share';

/** Stable code of a request refused because its viewer holds its whole share of streams. */
export const ERR_VIEWER_STREAMS = 'ERR_VIEWER_STREAMS';

export interface ViewerStreamQuota {
  /**
   * Takes a slot for `viewer` (an address) on `session`, whose agent
   * connection accepts `connectionLimit` streams (`taken`), unless the
   * viewer holds its share already: the configured limit, at most a quarter
   * of the streams other viewers leave free (fairShare), and its network at
   * most a quarter of what other networks leave free. Give a taken slot back
   * with hold(); refusalMessage() words a refusal.
   */
  acquire(session: object, viewer: string, connectionLimit: number): ShareVerdict;
  /** The slot taken by acquire() goes back when `stream` closes (undefined: at once). */
  hold(session: object, viewer: string, stream: Stream | undefined): void;
  /** Streams `viewer` holds on `session` (tests, logs). */
  count(session: object, viewer: string): number;
}

/** What a viewer refused a stream reads (with ERR_VIEWER_STREAMS). */
export function refusalMessage(verdict: Exclude<ShareVerdict, 'taken'>): string {
  switch (verdict) {
    case 'source':
      return 'You have too many requests and WebSockets open on this session at once; others must finish first.';
    case 'network':
      return 'Your network (its addresses count together: an IPv4 /24, an IPv6 /56) has too many requests and WebSockets open on this session at once; others must finish first.';
    case 'full':
      return "This session has as many requests and WebSockets open as its developer's agent takes; others must finish first.";
  }
}

export function createViewerStreamQuota(limit: number): ViewerStreamQuota {
  // A session's entry goes once it holds no stream: forgotten with the session's last stream.
  const shares = createFairShares<object>();
  return {
    acquire(session, viewer, connectionLimit) {
      return shares.acquire(session, holderOf(viewer), connectionLimit, limit);
    },
    hold(session, viewer, stream) {
      const holder = holderOf(viewer);
      if (!stream || stream.closed) return shares.release(session, holder);
      stream.once('close', () => shares.release(session, holder));
    },
    count(session, viewer) {
      return shares.count(session, holderOf(viewer));
    },
  };
}
