/**
 * Signaling's word that a channel's peer went away (`bye`, `viewer-left`), checked with one PING first (the channel can
 * outlive the signaling socket): gone when the PING goes unanswered in `timeoutMs` and no byte of the peer's came in its
 * second half. Bytes sent before a death (an upload's window credit, behind a busy event loop) come early; a live peer
 * whose PONG waits behind its own sending still sends late. Unchecked, a dead peer was noticed 10–25 s later.
 */
import { GONE_CHECK_TIMEOUT_MS } from './constants';
import type { HeartbeatTarget } from './heartbeat';

/** Resolves true when the peer behind `connection` is gone (or the connection closed meanwhile). */
export async function peerGone(connection: HeartbeatTarget, timeoutMs = GONE_CHECK_TIMEOUT_MS): Promise<boolean> {
  let halfway = connection.bytesReceived;
  const mark = setTimeout(() => (halfway = connection.bytesReceived), timeoutMs / 2);
  try {
    await connection.ping(timeoutMs);
    return false;
  } catch {
    return connection.isClosed || connection.bytesReceived === halfway;
  } finally {
    clearTimeout(mark);
  }
}
