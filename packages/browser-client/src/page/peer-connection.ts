/**
 * The shell's RTCPeerConnection and its pool of data channels
 * (transports/channel-pool.ts), made the same way by
 * the inline script's early attempt (early-attempt-inline.ts) and client.js's
 * attempts (peer-attempt.ts).
 *
 * With `videoSection` (the hello's p2p.videoSection), the offer also carries
 * a receive-only video section, bundled on the data channel's transport. The
 * agent answers it inactive and no media ever flows; it is there because
 * Chromium gives a data-only peer connection's UDP socket a small receive
 * buffer and raises it once a video channel exists on the transport. Bulk
 * bursts over the small one overflow it, and each drop halves SCTP's window
 * (docs/PROTOCOL.md §Receive buffer).
 */
import { DATA_CHANNEL_LABEL } from '@wingman/protocol';
import { rtcConfiguration } from './signal-out';

/**
 * The page attribute that says the server's hellos ask for the video section
 * (tunnel-server `browser/shell-html.ts`): the shell's peer connection can
 * then be made before the hello arrives (prepareShellPeer).
 */
export const VIDEO_SECTION_ATTRIBUTE = 'data-wingman-video';

export interface ShellPeer {
  pc: RTCPeerConnection;
  /** The pool's data channels, the first one first. */
  dcs: RTCDataChannel[];
}

/**
 * Makes the peer connection and its `channels` ordered data channels
 * (DATA_CHANNEL_LABEL), plus the video section when asked. Throws what the
 * browser throws.
 */
export function createShellPeer(iceServers: readonly RTCIceServer[], videoSection: boolean, channels: number): ShellPeer {
  const pc = new RTCPeerConnection(rtcConfiguration(iceServers));
  try {
    const dcs = Array.from({ length: channels }, () => pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true }));
    if (videoSection) pc.addTransceiver('video', { direction: 'recvonly' });
    return { pc, dcs };
  } catch (err) {
    pc.close();
    throw err;
  }
}

/**
 * A peer connection made before the signaling hello (early-attempt-inline.ts):
 * its data channels, its video section as the page announced it, and its
 * offer being created, all while the signaling socket connects. No ICE
 * servers yet: the hello's are set before anything is gathered
 * (offerPrepared). Made this way, the offer leaves as the hello arrives
 * instead of after the browser made the connection, its certificate and
 * the offer, which a busy main thread (client.js starting) can hold up.
 */
export interface PreparedPeer extends ShellPeer {
  readonly videoSection: boolean;
  /** The offer, not yet set as the local description. */
  readonly offer: Promise<RTCSessionDescriptionInit>;
}

export function prepareShellPeer(videoSection: boolean, channels: number): PreparedPeer {
  const made = createShellPeer([], videoSection, channels);
  const offer = made.pc.createOffer();
  // Whoever uses the peer awaits it; until then nobody does.
  offer.catch(() => undefined);
  return { ...made, videoSection, offer };
}

/**
 * Offers a prepared peer for a hello: its ICE servers set (nothing was
 * gathered yet), the offer handed to `send` as soon as it exists, then set
 * as the local description, which starts gathering (its candidates trickle
 * after the offer). Rejects as createOffer/setLocalDescription do.
 */
export async function offerPrepared(peer: PreparedPeer, iceServers: readonly RTCIceServer[], send: (sdp: string) => void): Promise<void> {
  peer.pc.setConfiguration(rtcConfiguration(iceServers));
  const offer = await peer.offer;
  send(offer.sdp ?? '');
  await peer.pc.setLocalDescription(offer);
}

/** Closes a peer nobody will use, swallowing the error of one already closed. */
export function closeShellPeer(peer: ShellPeer | undefined): void {
  try {
    peer?.pc.close();
  } catch {
    /* already closed */
  }
}
