/**
 * Signaling's word that a channel's peer went away (`bye`, `viewer-left`), checked with one PING first, as
 * the channel can outlive the signaling socket: gone when the PING goes unanswered within `timeoutMs` and no
 * byte of the peer's arrived in the second half of that time. Bytes the peer sent before it died can still be
 * on their way when the word comes (an upload's window credit, behind a busy event loop), so only the late ones
 * count as life; a live peer whose PONG is late behind its own sending is still sending then. Without the
 * check a dead peer was noticed 10–25 s later, every exchange hanging meanwhile.
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
