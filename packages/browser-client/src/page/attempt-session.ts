/**
 * The session a P2P attempt resolves with, once its first channel is ready:
 * a view of the attempt's pool, its primary peer connection and its loss probe.
 */
import { runLossProbe, type ChannelFingerprints, type Connection, type ConnectionPool, type LossProbeResult, type ViewerSignal } from '@wingman/protocol';
import type { PeerSession } from './attempt-types';

/** What the session reads from, and does through, the attempt that made it. */
export interface SessionSource {
  readonly pool: ConnectionPool;
  readonly viewerId: string;
  /** The hello's p2p.lossProbe. */
  readonly lossProbeOn: boolean;
  readonly verified: boolean;
  readonly closed: boolean;
  /** How many peer connections carry ready channels. */
  livePeerConnections(): number;
  teardown(reason: string): void;
  onClosed(fn: (reason: string) => void): void;
  send(m: ViewerSignal): void;
}

/** Where the session started: its first ready channel on the primary peer connection. */
export interface SessionStart {
  conn: Connection;
  channel: RTCDataChannel;
  connectMs: number;
  fingerprints: ChannelFingerprints | undefined;
  pc: RTCPeerConnection;
  probe: RTCDataChannel | undefined;
}

export function peerSession(attempt: SessionSource, { conn, channel, connectMs, fingerprints, pc, probe }: SessionStart): PeerSession {
  let measured: Promise<LossProbeResult | undefined> | undefined;
  return {
    connection: conn,
    pick: () => attempt.pool.pick(),
    channels: () => attempt.pool.connections.length,
    peerConnections: () => attempt.livePeerConnections(),
    channel,
    viewerId: attempt.viewerId,
    connectMs,
    verified: attempt.verified && fingerprints !== undefined,
    ...(fingerprints ? { fingerprints } : {}),
    close: (reason) => attempt.teardown(reason),
    stats: () => (!attempt.closed ? pc.getStats() : Promise.resolve(undefined)),
    lossProbeOff: !attempt.lossProbeOn,
    lossProbe(events = {}) {
      measured ??= probe && attempt.lossProbeOn && !attempt.closed ? runLossProbe(probe, events) : Promise.resolve(undefined);
      return measured;
    },
    onClosed: (fn) => attempt.onClosed(fn),
    report(state, extra = {}) {
      attempt.send({
        type: 'connection-state',
        state,
        ...(extra.reason ? { reason: extra.reason.slice(0, 200) } : {}),
        ...(extra.rttMs !== undefined ? { rttMs: extra.rttMs } : {}),
      });
    },
  };
}
