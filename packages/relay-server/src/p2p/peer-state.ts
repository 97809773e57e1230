/**
 * The P2P host's state: its viewers, each viewer's peer connections, and the
 * few things every part of the host does to them (signal a viewer, report,
 * close a peer connection).
 */
import {
  isMacedType,
  signalMac,
  tagged,
  type ConnectionPool,
  type TailProbeGroup,
  type HostSignal,
  type IceServer,
  type MacedSignal,
  type TrustKeys,
  type WindowGrowthShare,
} from '@wingman/protocol';
import type { RemoteCandidatePolicy } from './candidates';
import type { PendingCloses } from './graceful-close';
import type { HostCandidateHold } from './host-candidate-hold';
import type { IceTrace } from './ice-trace';
import type { PeerHostOptions, PeerReport, UntrustedEvent } from './peer-host-options';
import type { PublicAddressMemory } from './predicted-candidate';
import type { RtcDataChannel, RtcIceCandidateInit, RtcPeerConnection } from './webrtc';

/** What a viewer's peer connections share: the bounds count across all of them. */
export interface ViewerShare {
  viewerId: string;
  /** Its live peer connections. */
  peers: Set<Peer>;
  /** Auto-tuning growth of the viewer's upload windows, shared by all its connections. */
  growth: WindowGrowthShare;
  remoteCandidates: number;
  /** The `connected` report went out (for the first peer connection that connected). */
  reported: boolean;
  lastActivity: number;
}

export interface Peer {
  viewerId: string;
  /** Which of the viewer's peer connections (the `pc` of its signaling; 0: the first). */
  index: number;
  share: ViewerShare;
  pc: RtcPeerConnection;
  /** The data channels of this peer connection, in the order they arrived (the first carries its heartbeat). */
  dcs: RtcDataChannel[];
  /** Their connections once ready. */
  pool: ConnectionPool;
  /** Their tail-loss probes: one SCTP association, one prober. */
  tailProbes: TailProbeGroup;
  startedAt: number;
  connected: boolean;
  /** The offer carried a valid MAC: everything this peer sends is MACed, all it receives must be, and its channel is bound. */
  keys?: TrustKeys;
  /** Signaling to the viewer, in order (MACs are computed asynchronously). */
  out: Promise<void>;
  remoteDescriptionSet: boolean;
  pendingRemote: RtcIceCandidateInit[];
  remoteLoopback: boolean;
  heldLoopback: RtcIceCandidateInit[];
  /** Host candidates whose prediction went out, held a moment behind it (host-candidate-hold.ts). */
  hostHold: HostCandidateHold;
  rttMs?: number;
  timers: Array<ReturnType<typeof setTimeout>>;
  /** Stops the heartbeat and the idle check (once the channel is open). */
  stops: Array<() => void>;
  closed: boolean;
  /** Its set-up timeline, at debug level (ice-trace.ts). */
  trace: IceTrace;
}

/** The key of a viewer's peer connection `index` in the host's map. */
export function peerKey(viewerId: string, index: number): string {
  return index === 0 ? viewerId : `${viewerId}/${index}`;
}

/** Streams open over all of a viewer's peer connections. */
export function viewerStreams(share: ViewerShare): number {
  let n = 0;
  for (const p of share.peers) n += p.pool.streamCount;
  return n;
}

/** Data channels a viewer holds over all of its peer connections. */
export function viewerChannels(share: ViewerShare): number {
  let n = 0;
  for (const p of share.peers) n += p.dcs.length;
  return n;
}

/** What the host's parts share; one per host. */
export interface HostState {
  options: PeerHostOptions;
  peers: Map<string, Peer>;
  viewers: Map<string, ViewerShare>;
  /** Peer connections closed with their channels, their own close a moment later (graceful-close.ts). */
  closing: PendingCloses;
  maxPeers: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  iceServers: IceServer[];
  hideHost: boolean;
  publicAddress: PublicAddressMemory;
  predict: boolean;
  remotePolicy: RemoteCandidatePolicy;
  ownMaxMessageBytes: number;
  trustKeys: Promise<TrustKeys> | undefined;
  keyRequired: boolean;
  untrustedCount: number;
  /** Peers whose offer came without a MAC though their candidates carry one (warned about once). */
  strippedOffers: WeakSet<Peer>;
}

export function untrusted(host: HostState, viewerId: string, what: UntrustedEvent['what'], reason: string): void {
  host.untrustedCount++;
  try {
    host.options.onUntrusted?.({ viewerId, what, reason, count: host.untrustedCount });
  } catch {
    /* a reporting failure must not break the host */
  }
}

/** Sends to a peer's viewer after what it sent before; MACed when the viewer holds the link key. */
export function signal(host: HostState, peer: Peer, message: HostSignal): void {
  const keys = peer.keys;
  peer.out = peer.out
    .then(async () => {
      if (peer.closed && message.type !== 'error') return;
      const m = tagged(message, peer.index);
      const mac = keys && isMacedType(m.type) ? await signalMac(keys, 'agent', peer.viewerId, m as MacedSignal) : undefined;
      host.options.sendSignal(peer.viewerId, mac === undefined ? m : ({ ...m, mac } as HostSignal));
      if (m.type === 'answer') peer.trace('answer sent');
    })
    .catch(() => undefined);
}

export function report(host: HostState, r: PeerReport): void {
  try {
    host.options.report?.(r);
  } catch {
    /* a reporting failure must not break the peer */
  }
}

export function closePeerEntry(host: HostState, peer: Peer, state: 'failed' | 'closed', reason: string): void {
  if (peer.closed) return;
  peer.closed = true;
  for (const t of peer.timers) clearTimeout(t);
  peer.hostHold.stop();
  for (const stop of peer.stops) stop();
  host.peers.delete(peerKey(peer.viewerId, peer.index));
  for (const c of peer.pool.connections) c.close('ERR_GOING_AWAY', reason);
  host.closing.close(peer.pc, peer.dcs);
  const share = peer.share;
  share.peers.delete(peer);
  // The viewer's P2P ends with its last peer connection: one of several going changes nothing it reports.
  if (share.peers.size > 0) return;
  host.viewers.delete(share.viewerId);
  report(host, { viewerId: peer.viewerId, state, reason, ...(peer.rttMs !== undefined ? { rttMs: peer.rttMs } : {}) });
}

export function sendCandidate(host: HostState, peer: Peer, c: RtcIceCandidateInit): void {
  signal(host, peer, {
    type: 'ice-candidate',
    candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
  });
}
