/**
 * The P2P host: one RTCPeerConnection per viewer, answering the viewer's
 * offer, serving protocol streams over the data channel exactly as relayed
 * streams (the forwarder marks responses `x-wingman-transport: p2p`).
 */
import {
  announceMaxMessageSize,
  connectionOverDataChannel,
  DATA_CHANNEL_LABEL,
  DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  type Connection,
  type HostSignal,
  type IceServer,
  startHeartbeat,
  type Stream,
  type ViewerSignal,
} from '@wingman/protocol';
import {
  isHostCandidate,
  isLoopbackCandidate,
  ownAddresses,
  sdpCandidates,
  unreachableReason,
  withoutCandidates,
  type RemoteCandidatePolicy,
} from './candidates';
import { iceCandidateNotAdded } from './ice-debug';
import { closePeer, createPeerConnection, type RtcDataChannel, type RtcIceCandidateInit, type RtcPeerConnection } from './webrtc';

/** Default cap on concurrent viewer peers per agent (each costs a DTLS/SCTP association and a few threads' work in wrtc). */
export const DEFAULT_MAX_PEERS = 32;
/** Default time from offer to an open data channel before the host gives up on that viewer, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** Interval of protocol PINGs over an open channel (RTT for the CLI and metrics, liveness), ms; also how often idleness is checked. */
export const MONITOR_INTERVAL_MS = 5_000;
/** Wait for each PONG, ms: one interval, so one PING is in flight at a time. */
export const MONITOR_TIMEOUT_MS = MONITOR_INTERVAL_MS;
/**
 * Consecutive missed PONGs (each with no progress on the channel, see ChannelLiveness) after which
 * the peer is closed: 15 s, one more than the page's 2, so the page (which then falls back to the
 * relay and retries) sees a dead channel first.
 */
export const MONITOR_MAX_MISSED = 3;
/** Close a peer that carried no stream for this long, ms (the viewer reconnects on demand). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
/** Remote candidates accepted per viewer, those in its offer's SDP included (a real offer has < 20). */
export const MAX_REMOTE_CANDIDATES = 64;

export interface PeerReport {
  /** The signaling viewer: one per P2P channel. */
  viewerId: string;
  /** The viewer's one id (its visitor id, the server's viewer cookie), when the server named it; added by agent-p2p for display. */
  viewer?: string;
  state: 'connected' | 'failed' | 'closed';
  reason?: string;
  connectMs?: number;
  rttMs?: number;
}

export interface PeerInfo {
  viewerId: string;
  state: 'connecting' | 'connected';
  rttMs?: number;
  streams: number;
}

export interface PeerHostOptions {
  /** Serves each stream opened by a viewer over the channel (`viewerId`: whose channel). */
  handleStream(stream: Stream, transport: 'p2p', viewerId: string): void;
  /** Sends a signaling message to one viewer (through the tunnel server). */
  sendSignal(viewerId: string, message: HostSignal): void;
  /** Peer lifecycle reports (CLI display, server metrics). */
  report?(report: PeerReport): void;
  /** A connected viewer's round-trip time, after each monitor ping (every MONITOR_INTERVAL_MS). */
  onRtt?(viewerId: string, rttMs: number): void;
  /** STUN/TURN servers from the tunnel server's `registered.p2p`. */
  iceServers?: IceServer[];
  /** Cap on concurrent peers. Default DEFAULT_MAX_PEERS. */
  maxPeers?: number;
  /** Offer → open channel deadline, ms. Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Idle close, ms. Default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Largest WebSocket message a viewer may send over its channel, bytes. Default DEFAULT_WS_MESSAGE_LIMIT_BYTES. */
  wsMaxMessageBytes?: number;
  /**
   * Largest data-channel message, bytes, both ways: this host sends no larger
   * and announces it in its answer (a=max-message-size), so the viewer sends
   * no larger either. Default DATA_CHANNEL_DEFAULT_MESSAGE_BYTES.
   */
  maxMessageBytes?: number;
  /** Accept viewers' loopback candidates: they are on this machine (the tunnel server is on loopback). Default false. */
  acceptLoopbackCandidates?: boolean;
  /** Send no host candidate (viewers never learn this machine's addresses; P2P then needs STUN or TURN). Default false. */
  hideHostCandidates?: boolean;
}

export interface PeerHost {
  /** Feeds one validated signaling message from a viewer. Never throws. */
  handleSignal(viewerId: string, message: ViewerSignal): void;
  /** The viewer's signaling socket closed: drop the peer if it never connected. */
  viewerLeft(viewerId: string): void;
  /** Closes the viewer's peer connection, connected or not (the developer refused the viewer behind it). */
  closePeer(viewerId: string, reason: string): void;
  peers(): PeerInfo[];
  /** ICE servers for peers created from now on (credentials are renewed on every relay registration). */
  setIceServers(servers: IceServer[]): void;
  close(): void;
}

interface Peer {
  viewerId: string;
  pc: RtcPeerConnection;
  dc?: RtcDataChannel;
  conn?: Connection;
  startedAt: number;
  connected: boolean;
  remoteDescriptionSet: boolean;
  pendingRemote: RtcIceCandidateInit[];
  remoteCandidates: number;
  remoteLoopback: boolean;
  heldLoopback: RtcIceCandidateInit[];
  rttMs?: number;
  lastActivity: number;
  timers: Array<ReturnType<typeof setTimeout>>;
  /** Stops the heartbeat and the idle check (once the channel is open). */
  stops: Array<() => void>;
  closed: boolean;
}

export function createPeerHost(options: PeerHostOptions): PeerHost {
  const peers = new Map<string, Peer>();
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let iceServers = options.iceServers ?? [];
  const hideHost = options.hideHostCandidates === true;
  const remotePolicy: RemoteCandidatePolicy = { acceptLoopback: options.acceptLoopbackCandidates === true, ownAddresses: ownAddresses() };
  /** A remote candidate the host would send STUN checks to for nothing, or to somewhere it must not: dropped. */
  const unreachable = (candidate: string) => unreachableReason(candidate, remotePolicy) !== undefined;
  const ownMaxMessageBytes = options.maxMessageBytes ?? DATA_CHANNEL_DEFAULT_MESSAGE_BYTES;

  const report = (r: PeerReport) => {
    try {
      options.report?.(r);
    } catch {
      /* a reporting failure must not break the peer */
    }
  };

  function closePeerEntry(peer: Peer, state: 'failed' | 'closed', reason: string): void {
    if (peer.closed) return;
    peer.closed = true;
    for (const t of peer.timers) clearTimeout(t);
    for (const stop of peer.stops) stop();
    peers.delete(peer.viewerId);
    peer.conn?.close('ERR_GOING_AWAY', reason);
    closePeer(peer.pc, peer.dc);
    report({ viewerId: peer.viewerId, state, reason, ...(peer.rttMs !== undefined ? { rttMs: peer.rttMs } : {}) });
  }

  function sendCandidate(peer: Peer, c: RtcIceCandidateInit): void {
    options.sendSignal(peer.viewerId, {
      type: 'ice-candidate',
      candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
    });
  }

  function onChannel(peer: Peer, dc: RtcDataChannel): void {
    if (dc.label !== DATA_CHANNEL_LABEL || peer.dc) {
      try {
        dc.close();
      } catch {
        /* ignore */
      }
      return;
    }
    peer.dc = dc;
    const open = () => {
      if (peer.closed || peer.conn) return;
      const remoteMax = peer.pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(peer.pc.remoteDescription?.sdp ?? '');
      const conn = connectionOverDataChannel(dc, {
        role: 'server',
        maxWsMessageBytes: options.wsMaxMessageBytes ?? DEFAULT_WS_MESSAGE_LIMIT_BYTES,
        maxMessageBytes: dataChannelMessageBytes(remoteMax, ownMaxMessageBytes),
        // Once per event-loop turn, not per I/O callback: every send is a synchronous call into wrtc's
        // threads, and the answers of a page's burst of requests arrive together (docs/PROTOCOL.md §Scheduling).
        schedule: setImmediate,
      });
      peer.conn = conn;
      peer.connected = true;
      peer.lastActivity = Date.now();
      conn.on('stream', (stream) => {
        peer.lastActivity = Date.now();
        options.handleStream(stream, 'p2p', peer.viewerId);
      });
      conn.on('close', () => closePeerEntry(peer, 'closed', 'data channel closed'));
      report({ viewerId: peer.viewerId, state: 'connected', connectMs: Date.now() - peer.startedAt });
      monitor(peer, conn, dc);
    };
    if (dc.readyState === 'open') open();
    else dc.addEventListener('open', open);
    dc.addEventListener('close', () => closePeerEntry(peer, 'closed', 'data channel closed'));
  }

  function monitor(peer: Peer, conn: Connection, dc: RtcDataChannel): void {
    // A PING stuck behind a bulk transfer on a lossy path is not a dead channel: see ChannelLiveness.
    const stop = startHeartbeat(conn, {
      intervalMs: MONITOR_INTERVAL_MS,
      timeoutMs: MONITOR_TIMEOUT_MS,
      maxMissed: MONITOR_MAX_MISSED,
      bufferedAmount: () => dc.bufferedAmount,
      immediate: true,
      onRtt: (ms) => {
        peer.rttMs = ms;
        try {
          options.onRtt?.(peer.viewerId, ms);
        } catch {
          /* a reporting failure must not break the peer */
        }
      },
      onDead: () => closePeerEntry(peer, 'failed', 'ping timeout'),
    });
    const idleCheck = setInterval(() => {
      if (conn.streamCount > 0) peer.lastActivity = Date.now();
      if (Date.now() - peer.lastActivity > idleTimeoutMs) closePeerEntry(peer, 'closed', 'idle');
    }, MONITOR_INTERVAL_MS);
    peer.stops.push(stop, () => clearInterval(idleCheck));
  }

  async function onOffer(viewerId: string, offered: string): Promise<void> {
    const existing = peers.get(viewerId);
    if (existing) closePeerEntry(existing, 'closed', 'replaced by a new offer');
    const inOffer = sdpCandidates(offered).length;
    if (inOffer > MAX_REMOTE_CANDIDATES) {
      options.sendSignal(viewerId, { type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` });
      report({ viewerId, state: 'failed', reason: 'too many candidates' });
      return;
    }
    // Read again per offer: a laptop's addresses change as it moves between networks.
    remotePolicy.ownAddresses = ownAddresses();
    const sdp = withoutCandidates(offered, unreachable);
    if (peers.size >= maxPeers) {
      options.sendSignal(viewerId, {
        type: 'error',
        code: 'ERR_TOO_MANY_PEERS',
        message: `this agent serves at most ${maxPeers} P2P viewers; staying on the relay`,
      });
      report({ viewerId, state: 'failed', reason: 'too many peers' });
      return;
    }
    const pc = createPeerConnection({ iceServers });
    const peer: Peer = {
      viewerId,
      pc,
      startedAt: Date.now(),
      connected: false,
      remoteDescriptionSet: false,
      pendingRemote: [],
      remoteCandidates: inOffer,
      remoteLoopback: false,
      heldLoopback: [],
      lastActivity: Date.now(),
      timers: [],
      stops: [],
      closed: false,
    };
    peers.set(viewerId, peer);
    peer.timers.push(
      setTimeout(() => {
        if (!peer.connected) closePeerEntry(peer, 'failed', `no data channel within ${connectTimeoutMs} ms`);
      }, connectTimeoutMs),
    );
    pc.onicecandidate = (ev) => {
      if (peer.closed) return;
      if (!ev.candidate) return options.sendSignal(viewerId, { type: 'end-of-candidates' });
      const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
      if (!c.candidate) return;
      if (hideHost && isHostCandidate(c.candidate)) return;
      if (isLoopbackCandidate(c.candidate) && !peer.remoteLoopback) peer.heldLoopback.push(c);
      else sendCandidate(peer, c);
    };
    pc.ondatachannel = (ev) => onChannel(peer, ev.channel);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') closePeerEntry(peer, 'failed', 'ICE failed');
      else if (pc.connectionState === 'closed') closePeerEntry(peer, 'closed', 'peer connection closed');
    };
    if (sdpCandidates(sdp).some(isLoopbackCandidate)) revealLoopback(peer);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    peer.remoteDescriptionSet = true;
    for (const c of peer.pendingRemote.splice(0)) await pc.addIceCandidate(c).catch(iceCandidateNotAdded(viewerId));
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (peer.closed) return;
    const local = pc.localDescription?.sdp ?? answer.sdp;
    options.sendSignal(viewerId, {
      type: 'answer',
      sdp: announceMaxMessageSize(hideHost ? withoutCandidates(local, isHostCandidate) : local, ownMaxMessageBytes),
    });
  }

  function revealLoopback(peer: Peer): void {
    if (peer.remoteLoopback) return;
    peer.remoteLoopback = true;
    for (const c of peer.heldLoopback.splice(0)) sendCandidate(peer, c);
  }

  function onCandidate(peer: Peer, c: RtcIceCandidateInit): void {
    if (++peer.remoteCandidates > MAX_REMOTE_CANDIDATES) {
      options.sendSignal(peer.viewerId, { type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` });
      return closePeerEntry(peer, 'failed', 'too many candidates');
    }
    if (unreachable(c.candidate)) return;
    if (isLoopbackCandidate(c.candidate)) revealLoopback(peer);
    if (!peer.remoteDescriptionSet) peer.pendingRemote.push(c);
    else void peer.pc.addIceCandidate(c).catch(iceCandidateNotAdded(peer.viewerId));
  }

  return {
    handleSignal(viewerId, message) {
      const peer = peers.get(viewerId);
      switch (message.type) {
        case 'offer':
          onOffer(viewerId, message.sdp).catch((err: unknown) => {
            const p = peers.get(viewerId);
            options.sendSignal(viewerId, { type: 'error', code: 'ERR_BAD_OFFER', message: `could not answer the offer: ${(err as Error).message}` });
            if (p) closePeerEntry(p, 'failed', 'bad offer');
          });
          return;
        case 'ice-candidate':
          if (peer && !peer.closed) onCandidate(peer, message.candidate);
          return;
        case 'end-of-candidates':
          if (peer?.remoteDescriptionSet) void peer.pc.addIceCandidate(null).catch(iceCandidateNotAdded(viewerId));
          return;
        case 'connection-state':
          if (peer && message.state === 'failed') closePeerEntry(peer, 'failed', message.reason ?? 'viewer reported failure');
          return;
        case 'bye':
          if (peer) closePeerEntry(peer, 'closed', message.reason ?? 'viewer said bye');
          return;
      }
    },
    viewerLeft(viewerId) {
      const peer = peers.get(viewerId);
      if (peer && !peer.connected) closePeerEntry(peer, 'closed', 'viewer left before connecting');
    },
    closePeer(viewerId, reason) {
      const peer = peers.get(viewerId);
      if (peer) closePeerEntry(peer, 'closed', reason);
    },
    peers() {
      return [...peers.values()].map((p) => ({
        viewerId: p.viewerId,
        state: p.connected ? 'connected' : 'connecting',
        ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}),
        streams: p.conn?.streamCount ?? 0,
      }));
    },
    setIceServers(servers) {
      iceServers = servers;
    },
    close() {
      for (const p of [...peers.values()]) closePeerEntry(p, 'closed', 'agent closing');
    },
  };
}
