/**
 * Per-viewer stream quota: how many relay streams (HTTP requests and
 * WebSockets) one viewer may have open at once on one session. An agent
 * connection carries at most DEFAULT_MAX_CONCURRENT_STREAMS streams; without
 * a quota, one viewer holding that many slow requests or idle WebSockets made
 * every other viewer's request fail with ERR_TOO_MANY_STREAMS. A viewer over
 * its quota is refused (503, Retry-After) on its own new requests only.
 *
 * Viewers are told apart by the address the server computes for per-viewer
 * limits (viewer-address.ts: trusted proxies, cluster hops), IPv6 per /64
 * (sourceKey, as the password throttle counts).
 */
import type { Stream } from '@wingman/protocol';
import { sourceKey } from '../access/password-throttle';

/**
 * Share of the agent connection's stream limit one viewer may hold: a
 * quarter, so at least three other viewers at their own quota still fit
 * (an agent advertising fewer streams than the default gets a smaller quota).
 */
export const VIEWER_STREAM_SHARE_DIVISOR = 4;

/** Stable code of a request refused because its viewer holds its whole quota of streams. */
export const ERR_VIEWER_STREAMS = 'ERR_VIEWER_STREAMS';

export interface ViewerStreamQuota {
  /**
   * Takes a slot for `viewer` (an address) on `session`, whose agent
   * connection accepts `connectionLimit` streams; false when the viewer holds
   * its quota already: the configured limit, at most a quarter of
   * `connectionLimit`. Give the slot back with hold().
   */
  acquire(session: object, viewer: string, connectionLimit: number): boolean;
  /** The slot taken by acquire() goes back when `stream` closes (undefined: at once). */
  hold(session: object, viewer: string, stream: Stream | undefined): void;
  /** Streams `viewer` holds on `session` (tests, logs). */
  count(session: object, viewer: string): number;
}

export function createViewerStreamQuota(limit: number): ViewerStreamQuota {
  // Per session object: forgotten with the session itself.
  const bySession = new WeakMap<object, Map<string, number>>();

  const release = (session: object, key: string) => {
    const counts = bySession.get(session);
    const n = (counts?.get(key) ?? 1) - 1;
    if (n > 0) counts!.set(key, n);
    else counts?.delete(key);
  };

  return {
    acquire(session, viewer, connectionLimit) {
      const key = sourceKey(viewer);
      let counts = bySession.get(session);
      if (!counts) bySession.set(session, (counts = new Map()));
      const n = counts.get(key) ?? 0;
      if (n >= Math.min(limit, Math.max(1, Math.floor(connectionLimit / VIEWER_STREAM_SHARE_DIVISOR)))) return false;
      counts.set(key, n + 1);
      return true;
    },
    hold(session, viewer, stream) {
      const key = sourceKey(viewer);
      if (!stream || stream.closed) return release(session, key);
      stream.once('close', () => release(session, key));
    },
    count(session, viewer) {
      return bySession.get(session)?.get(sourceKey(viewer)) ?? 0;
    },
  };
}
