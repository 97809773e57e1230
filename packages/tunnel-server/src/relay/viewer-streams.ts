/**
 * Per-viewer stream quota: the relay streams (HTTP requests and WebSockets) one viewer may have open at once on one
 * session, by the fair-share rule (sessions/fair-share.ts) and each network's floor with push-out (sessions/push-out.ts),
 * so a handful of addresses holding slow requests or idle WebSockets cannot fail every other viewer's request
 * (docs/operations.md §Limits). Viewers are told apart by viewers/viewer-address.ts's address, IPv6 per /64.
 */
import type { Stream } from '@wingman/protocol';
import type { PageOptions } from '../http/pages';
import { holderOf, type ShareVerdict } from '../sessions/fair-share';
import { createPushOutShares, type SlotCut } from '../sessions/push-out';

/** Stable code of a request refused because its viewer holds its whole share of streams (and of one cut for a viewer holding fewer). */
export const ERR_VIEWER_STREAMS = 'ERR_VIEWER_STREAMS';

/** What a viewer whose stream was cut for another reads (pages, a refused upgrade). */
export const CUT_MESSAGE =
  'The developer’s agent carries as many requests and WebSockets as it takes, and your network (an IPv4 /24, an IPv6 /56) held the most of them: this one, its newest, was ended so that a viewer holding fewer could be served.';
/** The page a request cut for another viewer gets, while its response has not begun. */
export const CUT_PAGE: PageOptions = {
  status: 503,
  title: 'Request ended for another viewer',
  message: CUT_MESSAGE,
  code: ERR_VIEWER_STREAMS,
  retry: true,
  relayed: true,
};
/** The close reason of a relayed WebSocket cut for another viewer (code 1013; at most 123 bytes). */
export const CUT_REASON = `your network held the most streams of a full session (${ERR_VIEWER_STREAMS})`;

/** A session as the quota counts it: its id names it in what a cut reports. */
export interface QuotaSession {
  readonly id: string;
}

export type ViewerStreamQuota = ReturnType<typeof createViewerStreamQuota>;

/** What a viewer refused a stream reads (with ERR_VIEWER_STREAMS). */
export const REFUSAL_MESSAGES: Record<Exclude<ShareVerdict, 'taken'>, string> = {
  source: 'You have too many requests and WebSockets open on this session at once; others must finish first.',
  network:
    'Your network (its addresses count together: an IPv4 /24, an IPv6 /56) has too many requests and WebSockets open on this session at once; others must finish first.',
  full: "This session has as many requests and WebSockets open as its developer's agent takes; others must finish first.",
};

/** `onCut`: each stream cut for a viewer holding fewer (server.ts logs it and counts it). */
export function createViewerStreamQuota(limit: number, onCut: (cut: SlotCut<QuotaSession>) => void = () => {}) {
  // A session's entry goes once it holds no stream: forgotten with the session's last stream.
  const shares = createPushOutShares<QuotaSession>(onCut);
  return {
    /**
     * Takes a slot for `viewer` on `session`, whose agent connection accepts `connectionLimit` streams, by the fair
     * share with its network's floor and push-out (sessions/push-out.ts). Give a taken slot back with hold().
     */
    acquire(session: QuotaSession, viewer: string, connectionLimit: number): ShareVerdict {
      return shares.acquire(session, holderOf(viewer), connectionLimit, limit);
    },
    /**
     * The slot taken by acquire() goes back when `stream` closes (undefined: at once). `cut` tells the viewer when its
     * stream is cut for another: the stream is reset first, then `cut` runs (a 503, a 1013 close).
     */
    hold(session: QuotaSession, viewer: string, stream: Stream | undefined, cut: () => void): void {
      const holder = holderOf(viewer);
      if (!stream || stream.closed) return shares.release(session, holder);
      const release = shares.hold(session, holder, () => {
        stream.reset('ERR_CANCEL', 'cut for a viewer holding fewer streams');
        cut();
      });
      stream.once('close', release);
    },
    /** Streams `viewer` holds on `session` (tests, logs). */
    count(session: QuotaSession, viewer: string): number {
      return shares.count(session, holderOf(viewer));
    },
  };
}
