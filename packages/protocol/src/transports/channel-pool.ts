/**
 * A pool of data channels, one Connection per channel, on one peer connection
 * or striped over several (each its own SCTP association).
 * SCTP delivers each data channel (one SCTP stream) in order but independently
 * of the others, so a lost packet holds back only the protocol streams of its
 * own channel: over a single channel it held back every response behind it
 * until SCTP retransmitted (RTO ≥ 400 ms). The viewer opens the channels (all
 * labelled DATA_CHANNEL_LABEL, ordered, before its offer, so they open with
 * the association and cost no round trip of their own) and picks one per new
 * stream; the agent serves each the same way and bounds a viewer's streams and
 * buffers across its whole pool. Every channel is bound on its own when the
 * session has a link key. docs/PROTOCOL.md §Channel pool.
 */
import type { Connection } from '../connection';
import type { DataChannelLike } from './data-channel';

/**
 * Data channels a viewer opens per peer connection by default: a burst of
 * requests spreads over four, so a lost packet holds back about a quarter of
 * them instead of all. The lab's lossy-mobile cold visit measured the same
 * with 4 as with 1 (docs/lab-log.md §Channel pool: the shared association's
 * congestion control and loss recovery bound it), and nothing measured
 * worse, so the default rests on removing the cross-channel blocking, not on
 * a measured gain there.
 */
export const DEFAULT_P2P_CHANNELS = 4;

/** Most data channels a viewer may open, and an agent serves, per peer connection. */
export const MAX_P2P_CHANNELS = 8;

/**
 * Peer connections a browser viewer stripes its pool over by default (the
 * tunnel server's P2P_PEER_CONNECTIONS). Each has its own UDP socket and its
 * own SCTP association, so its own congestion window and loss recovery: one
 * association's recovery from a loss holds back only the channels on it. The
 * lab's lossy-mobile cold visit went from 7.4 s over one to 4.4 s over two
 * and 3.9 s over four, far-server's loads and bulk unchanged (docs/lab-log.md
 * §Striping); two takes most of that gain at half the handshakes and agent
 * peer connections of four. docs/PROTOCOL.md §Channel pool.
 */
export const DEFAULT_P2P_PEER_CONNECTIONS = 2;

/** Most peer connections a viewer may open, and an agent serves, per signaling viewer. */
export const MAX_P2P_PEER_CONNECTIONS = 4;

/** A peer-connection count from configuration or a hello: an integer 1 … MAX_P2P_PEER_CONNECTIONS, else `fallback`. */
export function p2pPeerConnectionCount(v: unknown, fallback: number = DEFAULT_P2P_PEER_CONNECTIONS): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_P2P_PEER_CONNECTIONS ? n : fallback;
}

/**
 * The data channels peer connection `index` of `peerConnections` offers when
 * the pool has `channels` in all: spread evenly, the earlier ones taking the
 * remainder, and at least one each (so 1 channel over 2 peer connections is
 * 2 channels, still within MAX_P2P_CHANNELS as peerConnections ≤ 4).
 */
export function channelsOfPeerConnection(channels: number, peerConnections: number, index: number): number {
  return Math.max(1, Math.floor(channels / peerConnections) + (index < channels % peerConnections ? 1 : 0));
}

/** A channel count from configuration or a page's markup: an integer 1 … MAX_P2P_CHANNELS, else `fallback`. */
export function p2pChannelCount(v: unknown, fallback: number = DEFAULT_P2P_CHANNELS): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_P2P_CHANNELS ? n : fallback;
}

/** The ready connections of one peer connection, in the order they became ready. */
export class ConnectionPool {
  private readonly members: Connection[] = [];

  add(connection: Connection): void {
    this.members.push(connection);
  }

  /** Takes a connection out (its peer connection went while the pool goes on over the others). */
  remove(connection: Connection): void {
    const i = this.members.indexOf(connection);
    if (i >= 0) this.members.splice(i, 1);
  }

  get connections(): readonly Connection[] {
    return this.members;
  }

  /** Streams open over the whole pool. */
  get streamCount(): number {
    let n = 0;
    for (const c of this.members) n += c.streamCount;
    return n;
  }

  /**
   * The connection a new stream goes on: the ready one with the fewest open
   * streams, the earliest on a tie. A long download or a held-back response
   * keeps its channel busy, so a navigation or an API call goes elsewhere;
   * with every channel idle, requests stay on the first.
   */
  pick(): Connection | undefined {
    let best: Connection | undefined;
    for (const c of this.members) if (c.isReady && (!best || c.streamCount < best.streamCount)) best = c;
    return best;
  }

  close(): void {
    for (const c of this.members) c.close();
  }
}

export interface PoolChannelOptions {
  /** Binds the channel (channel-binding.ts) before any frame; absent: the channel is used as it is. */
  bind?: (dc: DataChannelLike) => Promise<DataChannelLike>;
  /** Makes the channel's Connection over the (bound) open channel; attach its handlers here. */
  connect: (channel: DataChannelLike) => Connection;
}

/**
 * Runs one channel of a pool: binds it when asked, makes its Connection once
 * it is open, and adds it to `pool` when the other end's HELLO arrives.
 * Resolves with that connection; rejects when the channel closes, or fails
 * its binding (the BindingError), before. A channel that is not bound never
 * gets a Connection when `bind` is given.
 */
export function joinPool(dc: DataChannelLike, pool: ConnectionPool, options: PoolChannelOptions): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let conn: Connection | undefined;
    let done = false;
    const settle = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) return reject(err);
      pool.add(conn!);
      resolve(conn!);
    };
    const serve = (channel: DataChannelLike) => {
      if (done || conn) return;
      if (channel.readyState !== 'open') return settle(new Error('the data channel closed before it was ready'));
      conn = options.connect(channel);
      conn.once('ready', () => settle());
      conn.once('close', () => settle(new Error('the data channel closed before it was ready')));
    };
    dc.addEventListener('close', () => settle(new Error('the data channel closed before it was ready')));
    if (options.bind) {
      options.bind(dc).then(serve, (err: Error) => settle(err));
    } else if (dc.readyState === 'open') serve(dc);
    else dc.addEventListener('open', () => serve(dc));
  });
}
