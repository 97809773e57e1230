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
 * (sourceKey, as the password throttle counts).
 */
import type { Stream } from '@wingman/protocol';
import { sourceKey } from '../http/source-key';
import { createFairShares } from '../sessions/fair-share';

/** Stable code of a request refused because its viewer holds its whole share of streams. */
export const ERR_VIEWER_STREAMS = 'ERR_VIEWER_STREAMS';

export interface ViewerStreamQuota {
  /**
   * Takes a slot for `viewer` (an address) on `session`, whose agent
   * connection accepts `connectionLimit` streams; false when the viewer holds
   * its share already: the configured limit, at most a quarter of the
   * streams other viewers leave free (fairShare). Give the slot back with hold().
   */
  acquire(session: object, viewer: string, connectionLimit: number): boolean;
  /** The slot taken by acquire() goes back when `stream` closes (undefined: at once). */
  hold(session: object, viewer: string, stream: Stream | undefined): void;
  /** Streams `viewer` holds on `session` (tests, logs). */
  count(session: object, viewer: string): number;
}

export function createViewerStreamQuota(limit: number): ViewerStreamQuota {
  // A session's entry goes once it holds no stream: forgotten with the session's last stream.
  const shares = createFairShares<object>();
  return {
    acquire(session, viewer, connectionLimit) {
      return shares.acquire(session, sourceKey(viewer), connectionLimit, limit);
    },
    hold(session, viewer, stream) {
      const key = sourceKey(viewer);
      if (!stream || stream.closed) return shares.release(session, key);
      stream.once('close', () => shares.release(session, key));
    },
    count(session, viewer) {
      return shares.count(session, sourceKey(viewer));
    },
  };
}
