/**
 * Closes a viewer's peer connection in two steps: its data channel at once
 * (its SCTP stream reset follows the GOAWAY its connection sent), the peer
 * connection itself PEER_CLOSE_GRACE_MS later. The viewer thus sees the
 * channel closed before its DTLS and SCTP transports go away. Closed
 * in one step, a Node viewer (@roamhq/wrtc) could still be sending on a
 * channel that read 'open' while its transport was being torn down, which
 * crashes its process (SIGSEGV in RTCDataChannel::Send); a browser hands its
 * requests back either way. Nothing is served in between: the channel's
 * connection is closed before this is called.
 */
import { closeChannel, closePeer, type RtcDataChannel, type RtcPeerConnection } from './webrtc';

/** How long a closed peer's connection outlives its channels (a viewer's own close of it comes first, a round trip later). */
const PEER_CLOSE_GRACE_MS = 1_000;

export interface PendingCloses {
  /** Closes `dc` now and `pc` after the grace period. */
  close(pc: RtcPeerConnection, dc: RtcDataChannel | undefined): void;
  /** Closes every peer connection still waiting, now (the host is closing). */
  flush(): void;
}

export function createPendingCloses(graceMs = PEER_CLOSE_GRACE_MS): PendingCloses {
  const waiting = new Map<RtcPeerConnection, ReturnType<typeof setTimeout>>();
  const finish = (pc: RtcPeerConnection) => {
    const timer = waiting.get(pc);
    if (timer === undefined) return;
    clearTimeout(timer);
    waiting.delete(pc);
    closePeer(pc);
  };
  return {
    close(pc, dc) {
      closeChannel(dc);
      if (waiting.has(pc)) return;
      const timer = setTimeout(() => finish(pc), graceMs);
      timer.unref?.();
      waiting.set(pc, timer);
    },
    flush() {
      for (const pc of [...waiting.keys()]) finish(pc);
    },
  };
}
