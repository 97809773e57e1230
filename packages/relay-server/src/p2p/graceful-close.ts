/**
 * Closes a viewer's peer connection in two steps: the data channel at once,
 * the peer connection PEER_CLOSE_GRACE_MS later. In one step a Node viewer
 * (@roamhq/wrtc) could send on a channel still reading 'open' while its
 * transport went away, a SIGSEGV in RTCDataChannel::Send.
 */
import { PEER_CLOSE_GRACE_MS } from './peer-host-options';
import { closeChannel, closePeer, type RtcDataChannel, type RtcPeerConnection } from './webrtc';

export type PendingCloses = ReturnType<typeof createPendingCloses>;

export function createPendingCloses(graceMs = PEER_CLOSE_GRACE_MS) {
  const waiting = new Map<RtcPeerConnection, ReturnType<typeof setTimeout>>();
  const finish = (pc: RtcPeerConnection) => {
    const timer = waiting.get(pc);
    if (timer === undefined) return;
    clearTimeout(timer);
    waiting.delete(pc);
    closePeer(pc);
  };
  return {
    /** Closes `dc` now and `pc` after the grace period. */
    close(pc: RtcPeerConnection, dc: RtcDataChannel | undefined) {
      closeChannel(dc);
      if (waiting.has(pc)) return;
      const timer = setTimeout(() => finish(pc), graceMs);
      timer.unref?.();
      waiting.set(pc, timer);
    },
    /** Closes every peer connection still waiting, now (the host is closing). */
    flush() {
      for (const pc of [...waiting.keys()]) finish(pc);
    },
  };
}
