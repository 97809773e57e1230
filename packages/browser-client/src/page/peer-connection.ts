/**
 * The shell's RTCPeerConnection and its data channel, made by each P2P
 * attempt (attempt.ts).
 *
 * With `videoSection` (the hello's p2p.videoSection), the offer also carries
 * a receive-only video section, bundled on the data channel's transport. The
 * agent answers it inactive and no media ever flows; it is there because
 * Chromium gives a data-only peer connection's UDP socket a small receive
 * buffer and raises it once a video channel exists on the transport. Bulk
 * bursts over the small one overflow it, and each drop halves SCTP's window
 * (docs/PROTOCOL.md §Receive buffer). It offers one codec (oneCodec).
 */
import { DATA_CHANNEL_LABEL, LOSS_PROBE_INIT, LOSS_PROBE_LABEL } from '@wingman/protocol';
import { rtcConfiguration } from './signal-out';

export interface ShellPeer {
  pc: RTCPeerConnection;
  /** The data channel the protocol runs over. */
  dc: RTCDataChannel;
  /** The loss probe's negotiated channel (docs/PROTOCOL.md §Loss probe), where the browser makes one. */
  probe?: RTCDataChannel;
}

/** The loss probe's channel on `pc`, or undefined where the browser refuses a negotiated one. */
function probeChannel(pc: RTCPeerConnection): RTCDataChannel | undefined {
  try {
    const dc = pc.createDataChannel(LOSS_PROBE_LABEL, { ...LOSS_PROBE_INIT });
    dc.binaryType = 'arraybuffer';
    return dc;
  } catch {
    return undefined;
  }
}

/**
 * Narrows the video section to one codec (VP8, which every WebRTC browser
 * has): no media ever flows on it, and the browser's full list is most of an
 * offer's bytes (Chromium: 5.4 KB of SDP with it, 1.7 KB without). A reload
 * sends its offers together with its first requests, on connections that sat
 * idle while P2P carried everything, where TCP restarts from its initial
 * window (about 14 KB); what does not fit waits a round trip to the server.
 * Where the browser refuses, the offer keeps its full list.
 */
function oneCodec(transceiver: RTCRtpTransceiver): void {
  try {
    const vp8 = RTCRtpReceiver.getCapabilities('video')?.codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    if (vp8 && typeof transceiver.setCodecPreferences === 'function') transceiver.setCodecPreferences([vp8]);
  } catch {
    // The full list: a bigger offer, nothing else.
  }
}

/**
 * Makes the peer connection and its ordered data channel
 * (DATA_CHANNEL_LABEL), the loss probe's channel, plus the video section
 * when asked. Throws what the browser throws.
 */
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
