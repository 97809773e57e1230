/**
 * Signaling says the other end of a channel went away: the agent's `bye`
 * when its P2P host process died, the tunnel server's `viewer-left` when a
 * tab's signaling socket closed. Signaling and the channel take different
 * paths and the channel can outlive the socket (a tunnel-server restart, a
 * reviewer's network blip to the server), so the word is checked against the
 * channel before it ends it: one PING, and the peer is gone when neither its
 * PONG nor any other byte of its came back within `timeoutMs` (a PONG queued
 * behind a bulk transfer comes late while the transfer's bytes keep coming:
 * liveness.ts). Without it a dead peer was noticed by the heartbeat or by
 * ICE, 10–25 s later, and every exchange on the channel hung meanwhile.
 */
import { GONE_CHECK_TIMEOUT_MS } from './constants';
import type { HeartbeatTarget } from './heartbeat';

/** Resolves true when the peer behind `connection` is gone (or the connection closed meanwhile). */
export async function peerGone(connection: HeartbeatTarget, timeoutMs = GONE_CHECK_TIMEOUT_MS): Promise<boolean> {
  const before = connection.bytesReceived;
  try {
    await connection.ping(timeoutMs);
    return false;
  } catch {
    return connection.isClosed || connection.bytesReceived === before;
  }
}
