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
 * Shares alone still let some 25 to 32 networks, each within its share, hold
 * every stream (32 × 64 held requests, 64 × 32 idle WebSockets), and a
 * newcomer then got none. So each network has a floor (streamFloor: 1/32 of
 * the agent connection's streams, 32 of 1 024) within which the shares do
 * not stop it: it takes a free stream, and when the connection has none, the
 * newest stream of the network holding the most is cut for it, provided that
 * network holds at least two more (a 503 or a 1013 close that says why, a log
 * line and wingman_viewer_streams_cut_total naming that network). This is
 * push-out, as a switch's shared buffer drops from its longest queue and
 * Envoy's overload manager resets the streams holding the most: a newcomer
 * is served while any network holds two streams or more, what many networks
 * hold converges to equal shares, and no two trade streams back and forth
 * (a cut needs a difference of two).
 *
 * Viewers are told apart by the address the server computes for per-viewer
 * limits (viewers/viewer-address.ts: trusted proxies, cluster hops), IPv6 per /64
 * (sourceKey, as the password throttle counts), and counted per network too
 * (an IPv4 /24, an IPv6 /56: the fair-share rule's networks).
 */
import type { Stream } from '@wingman/protocol';
import type { PageOptions } from '../http/pages';
import { createFairShares, holderOf, type ShareHolder, type ShareVerdict } from '../sessions/fair-share';

/** Stable code of a request refused because its viewer holds its whole share of streams (and of one cut for a viewer holding fewer). */
export const ERR_VIEWER_STREAMS = 'ERR_VIEWER_STREAMS';

/** A network may always hold 1/FLOOR_DIVISOR of the agent connection's streams, whatever its share (streamFloor). */
const FLOOR_DIVISOR = 32;

/**
 * Streams a network may hold whatever its fair share: 32 of an agent
 * connection's 1 024, at least one. A page's worth (a browser opens 6
 * connections per host, and a few WebSockets), and each one's equal share
 * when 32 networks hold every stream: with more, push-out keeps their
 * shares equal and below it.
 */
export function streamFloor(connectionLimit: number): number {
  return Math.max(1, Math.floor(connectionLimit / FLOOR_DIVISOR));
}

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

/** A stream cut for a viewer holding fewer: whose it was, and for whom. */
interface StreamCut {
  sessionId: string;
  /** The network that held the most, and the source (address, IPv6 /64) of the stream cut. */
  cut: ShareHolder;
  /** Streams that network held before the cut. */
  held: number;
  /** The viewer the stream went to. */
  taker: ShareHolder;
  /** What telling the cut viewer threw, if it did (the stream is gone all the same). */
  error?: unknown;
}

export interface ViewerStreamQuota {
  /**
   * Takes a slot for `viewer` (an address) on `session`, whose agent
   * connection accepts `connectionLimit` streams (`taken`), unless the
   * viewer holds its share already: the configured limit, at most a quarter
   * of the streams other viewers leave free (fairShare), and its network at
   * most a quarter of what other networks leave free. Within its network's
   * floor (streamFloor) a viewer is let past its share (not past the
   * configured limit): a free stream, or on a full connection the newest
   * stream of the network holding the most, when that holds two more. Give a
   * taken slot back with hold(); refusalMessage() words a refusal.
   */
  acquire(session: QuotaSession, viewer: string, connectionLimit: number): ShareVerdict;
  /**
   * The slot taken by acquire() goes back when `stream` closes (undefined: at
   * once). `cut` tells the viewer when its stream is cut for another: the
   * stream is reset first, then `cut` runs (a 503, a 1013 close).
   */
  hold(session: QuotaSession, viewer: string, stream: Stream | undefined, cut: () => void): void;
  /** Streams `viewer` holds on `session` (tests, logs). */
  count(session: QuotaSession, viewer: string): number;
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

/** A held stream: its source, and how to end it for another viewer. */
interface Held {
  source: string;
  end(): void;
}

/** `onCut`: each stream cut for a viewer holding fewer (server.ts logs it and counts it). */
export function createViewerStreamQuota(limit: number, onCut: (cut: StreamCut) => void = () => {}): ViewerStreamQuota {
  // A session's entry goes once it holds no stream: forgotten with the session's last stream.
  const shares = createFairShares<QuotaSession>();
  /** Per session and network, its streams in the order they were taken (the last is the newest). */
  const held = new Map<QuotaSession, Map<string, Set<Held>>>();

  function release(session: QuotaSession, holder: ShareHolder, entry: Held): void {
    shares.release(session, holder);
    const networks = held.get(session);
    const streams = networks?.get(holder.network);
    if (!networks || !streams) return;
    streams.delete(entry);
    if (streams.size === 0) networks.delete(holder.network);
    if (networks.size === 0) held.delete(session);
  }

  /** Cuts the newest stream `network` holds on `session` (none when its streams are counted but not yet held). */
  function cutNewest(session: QuotaSession, network: string, count: number, taker: ShareHolder): void {
    let newest: Held | undefined;
    for (const entry of held.get(session)?.get(network) ?? []) newest = entry;
    if (!newest) return;
    let error: unknown;
    try {
      newest.end();
    } catch (err) {
      error = err;
    }
    onCut({ sessionId: session.id, cut: { network, source: newest.source }, held: count, taker, ...(error !== undefined ? { error } : {}) });
  }

  return {
    acquire(session, viewer, connectionLimit) {
      const holder = holderOf(viewer);
      const verdict = shares.acquire(session, holder, connectionLimit, limit);
      if (verdict === 'taken' || shares.count(session, holder) >= limit) return verdict;
      const mine = shares.networkCount(session, holder);
      if (mine >= streamFloor(connectionLimit)) return verdict;
      if (shares.total(session) >= connectionLimit) {
        // Only a network holding two more gives a stream up: holders never trade one back and forth.
        const largest = shares.largestOtherNetwork(session, holder);
        if (!largest || largest.count < mine + 2) return verdict;
        cutNewest(session, largest.network, largest.count, holder);
        if (shares.total(session) >= connectionLimit) return verdict;
      }
      shares.take(session, holder);
      return 'taken';
    },
    hold(session, viewer, stream, cut) {
      const holder = holderOf(viewer);
      if (!stream || stream.closed) return shares.release(session, holder);
      const entry: Held = {
        source: holder.source,
        end() {
          // The reset frees the slot at once (its 'close' releases it); then the viewer hears why.
          stream.reset('ERR_CANCEL', 'cut for a viewer holding fewer streams');
          cut();
        },
      };
      let networks = held.get(session);
      if (!networks) held.set(session, (networks = new Map()));
      let streams = networks.get(holder.network);
      if (!streams) networks.set(holder.network, (streams = new Set()));
      streams.add(entry);
      stream.once('close', () => release(session, holder, entry));
    },
    count(session, viewer) {
      return shares.count(session, holderOf(viewer));
    },
  };
}
