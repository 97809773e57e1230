/**
 * The shell's RTCPeerConnection and its data channel, made by each P2P
 * attempt (attempt.ts). With `videoSection` (the hello's p2p.videoSection),
 * the offer also carries a receive-only video section that no media ever
 * uses: Chromium raises a peer connection's UDP receive buffer once a video
 * channel exists on the transport, and bulk bursts overflow the small one
 * (docs/PROTOCOL.md §Receive buffer).
 */
import { DATA_CHANNEL_LABEL, LOSS_PROBE_INIT, LOSS_PROBE_LABEL } from '@wingman/protocol';
import { rtcConfiguration } from './signal-out';
import { quietly } from '../shared/quietly';

export interface ShellPeer {
  pc: RTCPeerConnection;
  dc: RTCDataChannel;
  /** The loss probe's negotiated channel (docs/PROTOCOL.md §Loss probe), where the browser makes one. */
  probe?: RTCDataChannel;
}

/** The loss probe's channel on `pc`, or undefined where the browser refuses a negotiated one. */
function probeChannel(pc: RTCPeerConnection): RTCDataChannel | undefined {
  const dc = quietly(() => pc.createDataChannel(LOSS_PROBE_LABEL, { ...LOSS_PROBE_INIT }));
  if (dc) dc.binaryType = 'arraybuffer';
  return dc;
}

/**
 * Narrows the video section to one codec (VP8, in every WebRTC browser): the
 * full list is most of an offer's bytes (5.4 KB of SDP against 1.7 KB), sent
 * on connections whose TCP restarted from its ~14 KB initial window.
 */
function oneCodec(transceiver: RTCRtpTransceiver): void {
  // Refused: the full list, a bigger offer, nothing else.
  const vp8 = quietly(() => RTCRtpReceiver.getCapabilities('video')?.codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp8'));
  if (vp8 && typeof transceiver.setCodecPreferences === 'function') quietly(() => transceiver.setCodecPreferences([vp8]));
}

/** Throws what the browser throws (the peer connection made so far closed). */
export function createShellPeer(iceServers: readonly RTCIceServer[], videoSection: boolean): ShellPeer {
  const pc = new RTCPeerConnection(rtcConfiguration(iceServers));
  try {
    const dc = pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true });
    const probe = probeChannel(pc);
    if (videoSection) oneCodec(pc.addTransceiver('video', { direction: 'recvonly' }));
    return { pc, dc, ...(probe ? { probe } : {}) };
  } catch (err) {
    pc.close();
    throw err;
  }
}
