/** The only importer of @roamhq/wrtc (native, heavy, keeps handles open): the rest uses the structural types below. */
import { bindingProof, sdpFingerprint, type ChannelFingerprints, type DataChannelLike, type TrustKeys } from '@wingman/protocol';
import type { PublicAddressMemory } from './predicted-candidate';

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
  /** Once connected: the smaller of both ends' a=max-message-size. */
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

/** Loaded on first use. */
export function createPeerConnection(config: RtcConfiguration): RtcPeerConnection {
  if (!ctor) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ctor = (require('@roamhq/wrtc') as { RTCPeerConnection: Ctor }).RTCPeerConnection;
  }
  return new ctor(config);
}

/**
 * Takes two local peer connections through one offer/answer, so the first
 * viewer's answer does not pay for loading wrtc (lab, loaded 2 CPUs: 262 ms
 * first, 6 ms later). Nothing leaves the machine. Never rejects.
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

/** How long the start-up gathering waits for its public candidate, ms (a STUN round trip; the server may be far). */
export const LEARN_TIMEOUT_MS = 5_000;

/** A STUN-only gathering before any viewer offers, so the first answer carries a prediction (predicted-candidate.ts); never rejects. */
export async function learnPublicAddress(memory: PublicAddressMemory, stunUrls: string[], timeoutMs = LEARN_TIMEOUT_MS): Promise<void> {
  if (stunUrls.length === 0) return;
  let pc: RtcPeerConnection | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const own = createPeerConnection({ iceServers: [{ urls: stunUrls }] });
    pc = own;
    const done = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      own.onicecandidate = (ev) => {
        if (!ev.candidate || memory.observe(ev.candidate.candidate)) resolve();
      };
    });
    own.createDataChannel('learn');
    await own.setLocalDescription(await own.createOffer());
    await done;
  } catch {
    /* no public address learned: the first viewer's candidates go as they are gathered */
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (pc) closePeer(pc);
  }
}

/** Swallows the error wrtc throws on double close. */
export function closeChannel(dc: RtcDataChannel | undefined): void {
  try {
    dc?.close();
  } catch {
    /* already closed */
  }
}

/** The channel, then its peer connection (once). */
export function closePeer(pc: RtcPeerConnection, dc?: RtcDataChannel): void {
  closeChannel(dc);
  try {
    pc.close();
  } catch {
    /* already closed */
  }
}

/** This end's (`role`) channel-binding proof and the other end's expected one, from both descriptions' fingerprints (the remote one came MACed). */
export async function channelProofs(pc: RtcPeerConnection, keys: TrustKeys, role: 'agent' | 'viewer') {
  const local = sdpFingerprint(pc.localDescription?.sdp ?? '');
  const remote = sdpFingerprint(pc.remoteDescription?.sdp ?? '');
  if (!local || !remote) throw new Error('a description has no sha-256 fingerprint');
  const fingerprints: ChannelFingerprints = role === 'agent' ? { agent: local, viewer: remote } : { agent: remote, viewer: local };
  const other = role === 'agent' ? 'viewer' : 'agent';
  const [own, expected] = await Promise.all([bindingProof(keys, role, fingerprints), bindingProof(keys, other, fingerprints)]);
  return { own, expected, fingerprints };
}
