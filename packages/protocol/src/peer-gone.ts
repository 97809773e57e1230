/**
 * Signaling's word that a channel's peer went away (`bye`, `viewer-left`), checked with one PING first, as
 * the channel can outlive the signaling socket: gone when no byte of the peer's came back within
 * `timeoutMs`. Without it a dead peer was noticed 10–25 s later, every exchange hanging meanwhile.
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
