/**
 * The ONLY module that imports @roamhq/wrtc (native, heavy, known to keep
 * handles open): everything else uses the structural types below, so tests and
 * the relay-only path never load it.
 */
import type { DataChannelLike } from '@wingman/protocol';

export interface RtcIceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface RtcDataChannel extends DataChannelLike {
  readonly label: string;
  addEventListener(type: 'open' | 'close' | 'bufferedamountlow' | 'error', fn: () => void): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
}

export interface RtcPeerConnection {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly remoteDescription: { type: string; sdp: string } | null;
  /** wrtc has it once connected; maxMessageSize is the smaller of both ends' a=max-message-size. */
  readonly sctp?: { readonly maxMessageSize?: number } | null;
  createDataChannel(label: string, init?: { ordered?: boolean; negotiated?: boolean; id?: number; maxRetransmits?: number }): RtcDataChannel;
  createOffer(): Promise<{ type: string; sdp: string }>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
  addIceCandidate(c: RtcIceCandidateInit | null): Promise<void>;
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  close(): void;
  onicecandidate: ((ev: { candidate: (RtcIceCandidateInit & { toJSON?(): RtcIceCandidateInit }) | null }) => void) | null;
  ondatachannel: ((ev: { channel: RtcDataChannel }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
}

interface RtcConfiguration {
  iceServers?: Array<{ urls: string[]; username?: string; credential?: string }>;
}

type Ctor = new (config?: RtcConfiguration) => RtcPeerConnection;
let ctor: Ctor | undefined;

/** Creates a peer connection with @roamhq/wrtc (loaded on first use). */
export function createPeerConnection(config: RtcConfiguration): RtcPeerConnection {
  if (!ctor) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ctor = (require('@roamhq/wrtc') as { RTCPeerConnection: Ctor }).RTCPeerConnection;
  }
  return new ctor(config);
}

/**
 * Loads wrtc and takes two local peer connections through one offer/answer,
 * then closes them: the first viewer's answer then does not pay for loading
 * the native module and starting its threads. Measured in the lab
 * (far-server, a loaded 2-CPU machine): the P2P host's first answer took
 * 262 ms from the offer, a later one 6 ms. Nothing leaves the machine: no
 * ICE servers, no remote candidates. Never rejects.
 */
export async function warmUpWebRtc(): Promise<void> {
  let a: RtcPeerConnection | undefined;
  let b: RtcPeerConnection | undefined;
  try {
    a = createPeerConnection({});
    b = createPeerConnection({});
    a.createDataChannel('warm-up');
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    await b.setLocalDescription(await b.createAnswer());
  } catch {
    /* the first viewer's offer meets the same error and reports it */
  } finally {
    if (a) closePeer(a);
    if (b) closePeer(b);
  }
}

/** Closes a data channel, swallowing the error wrtc throws on double close. */
export function closeChannel(dc: RtcDataChannel | undefined): void {
  try {
    dc?.close();
  } catch {
    /* already closed */
  }
}

/** Closes a data channel and then its peer connection (once), swallowing the errors wrtc throws on double close. */
export function closePeer(pc: RtcPeerConnection, dc?: RtcDataChannel): void {
  closeChannel(dc);
  try {
    pc.close();
  } catch {
    /* already closed */
  }
}
