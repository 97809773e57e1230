/**
 * How the shell closes its peer connection: its channels first, the peer
 * connection itself SHELL_PEER_CLOSE_GRACE_MS later.
 */
import type { ShellPeer } from './peer-connection';

/**
 * How long a closed peer connection outlives its channels, ms. Each channel's
 * close leaves as an SCTP stream reset, so the agent sees its channels go
 * `closing` before the transport goes away. Closed together, the transport's
 * ABORT could come first, and the agent's @roamhq/wrtc tears a channel down
 * from 'open' straight to 'closed' on its signaling thread, racing a send its
 * main thread has begun on that channel: that crashes its P2P host process
 * (SIGSEGV in RTCDataChannel::Send). A page that is leaving never runs the
 * timer: the browser closes its peer connections as it discards the
 * document, after the resets went.
 */
const SHELL_PEER_CLOSE_GRACE_MS = 100;

/** Closes a peer connection's channels now and the peer connection a moment later; one already closed is left as it is. */
export function closeShellPeer(p: ShellPeer): void {
  for (const dc of [p.dc, ...(p.probe ? [p.probe] : [])]) {
    try {
      dc.close();
    } catch {
      /* already closed */
    }
  }
  setTimeout(() => {
    try {
      p.pc.close();
    } catch {
      /* already closed */
    }
  }, SHELL_PEER_CLOSE_GRACE_MS);
}
