/** The P2P host's state: its viewers' peer connections, and what every part of the host does to them. */
import { isMacedType, signalMac, type Connection, type HostSignal, type IceServer, type MacedSignal, type TrustKeys } from '@wingman/protocol';
import type { RemoteCandidatePolicy } from './candidates';
import type { PendingCloses } from './graceful-close';
import type { HostCandidateHold } from './host-candidate-hold';
import type { IceTrace } from './ice-trace';
import type { PeerHostOptions, PeerReport, UntrustedEvent } from './peer-host-options';
import type { PublicAddressMemory } from './predicted-candidate';
import type { RtcDataChannel, RtcIceCandidateInit, RtcPeerConnection } from './webrtc';

export interface Peer {
  viewerId: string;
  pc: RtcPeerConnection;
  dc?: RtcDataChannel;
  /** Once the viewer's HELLO came. */
  connection?: Connection;
  /** In the offer and trickled (at most MAX_REMOTE_CANDIDATES). */
  remoteCandidates: number;
  lastActivity: number;
  startedAt: number;
  connected: boolean;
  /** The offer carried a valid MAC: all it sends and receives is MACed, and its channel is bound. */
  keys?: TrustKeys;
  /** In order (MACs are computed asynchronously). */
  out: Promise<void>;
  remoteDescriptionSet: boolean;
  pendingRemote: RtcIceCandidateInit[];
  remoteLoopback: boolean;
  heldLoopback: RtcIceCandidateInit[];
  /** Host candidates whose prediction went out, held a moment behind it (host-candidate-hold.ts). */
  hostHold: HostCandidateHold;
  rttMs?: number;
  timers: Array<ReturnType<typeof setTimeout>>;
  /** The heartbeat and the idle check, once the channel is open. */
  stops: Array<() => void>;
  closed: boolean;
  trace: IceTrace;
}

export interface HostState {
  options: PeerHostOptions;
  peers: Map<string, Peer>;
  /** Closed with their channels, their own close a moment later (graceful-close.ts). */
  closing: PendingCloses;
  connectTimeoutMs: number;
  iceServers: IceServer[];
  hideHost: boolean;
  publicAddress: PublicAddressMemory;
  predict: boolean;
  remotePolicy: RemoteCandidatePolicy;
  ownMaxMessageBytes: number;
  trustKeys: Promise<TrustKeys> | undefined;
  keyRequired: boolean;
  untrustedCount: number;
  /** Offer without a MAC though their candidates carry one (warned about once). */
  strippedOffers: WeakSet<Peer>;
}

/** Tells the host's owner (the CLI, the IPC channel): a reporting failure must not break the host or the peer. */
export function tell(fn: () => void): void {
  try {
    fn();
  } catch {
    /* ignored */
  }
}

export function untrusted(host: HostState, viewerId: string, what: UntrustedEvent['what'], reason: string): void {
  host.untrustedCount++;
  tell(() => host.options.onUntrusted?.({ viewerId, what, reason, count: host.untrustedCount }));
}

/** After what it sent before; MACed when the viewer holds the link key. */
export function signal(host: HostState, peer: Peer, message: HostSignal): void {
  const keys = peer.keys;
  peer.out = peer.out
    .then(async () => {
      if (peer.closed && message.type !== 'error') return;
      const mac = keys && isMacedType(message.type) ? await signalMac(keys, 'agent', peer.viewerId, message as MacedSignal) : undefined;
      host.options.sendSignal(peer.viewerId, mac === undefined ? message : ({ ...message, mac } as HostSignal));
      if (message.type === 'answer') peer.trace('answer sent');
    })
    .catch(() => undefined);
}

export function report(host: HostState, r: PeerReport): void {
  tell(() => host.options.report?.(r));
}

export function closePeerEntry(host: HostState, peer: Peer, state: 'failed' | 'closed', reason: string): void {
  if (peer.closed) return;
  peer.closed = true;
  for (const t of peer.timers) clearTimeout(t);
  peer.hostHold.stop();
  for (const stop of peer.stops) stop();
  if (host.peers.get(peer.viewerId) === peer) host.peers.delete(peer.viewerId);
  peer.connection?.close('ERR_GOING_AWAY', reason);
  host.closing.close(peer.pc, peer.dc);
  report(host, { viewerId: peer.viewerId, state, reason, ...(peer.rttMs !== undefined ? { rttMs: peer.rttMs } : {}) });
}

export function sendCandidate(host: HostState, peer: Peer, c: RtcIceCandidateInit): void {
  signal(host, peer, {
    type: 'ice-candidate',
    candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
  });
}
