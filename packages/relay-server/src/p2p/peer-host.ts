/**
 * The P2P host: an RTCPeerConnection per viewer (or up to
 * MAX_P2P_PEER_CONNECTIONS when the viewer stripes, each named by the `pc` of
 * its signaling), answering the viewer's offers, serving protocol streams
 * over the viewer's pool of data channels (transports/channel-pool.ts, up to
 * MAX_P2P_CHANNELS across all its peer connections, each bound on its own)
 * exactly as relayed streams (the forwarder marks responses
 * `x-wingman-transport: p2p`). A viewer's streams, window growth and remote
 * candidates are bounded across its whole pool; any channel closing closes
 * its peer connection, and the viewer's others go on.
 */
import {
  announceMaxMessageSize,
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  ConnectionPool,
  TailProbeGroup,
  DATA_CHANNEL_LABEL,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_WINDOW_GROWTH_BUDGET_BYTES,
  joinPool,
  MAX_P2P_CHANNELS,
  peerIndex,
  tagged,
  DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  deriveTrustKeys,
  isMacedType,
  linkKeyBytes,
  sdpFingerprint,
  signalMac,
  signalMacValid,
  type Connection,
  type DataChannelLike,
  type MacedSignal,
  type TrustKeys,
  type WindowGrowthShare,
  type HostSignal,
  type IceServer,
  peerGone,
  startHeartbeat,
  type Stream,
  type ViewerSignal,
  withListedFormatsOnly,
} from '@wingman/protocol';
import {
  isHostCandidate,
  isLoopbackCandidate,
  ownAddresses,
  answerCandidates,
  candidateAddress,
  sdpCandidates,
  unreachableReason,
  withoutCandidates,
  withoutRelatedAddress,
  MAX_REMOTE_CANDIDATES,
  type RemoteCandidatePolicy,
} from './candidates';
import { candidateKind, startIceTrace, type IceTrace } from './ice-trace';
import { iceCandidateNotAdded } from './ice-debug';
import { createKeyedSerial } from './keyed-serial';
import { HostCandidateHold } from './host-candidate-hold';
import { PublicAddressMemory } from './predicted-candidate';
import { answerLossProbes } from './loss-echo';
import { createPendingCloses } from './graceful-close';
import { createPeerConnection, type RtcDataChannel, type RtcIceCandidateInit, type RtcPeerConnection } from './webrtc';

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

export interface PeerReport {
  /** The signaling viewer: one per P2P channel. */
  viewerId: string;
  /** The viewer's one id (its visitor id, the server's viewer cookie), when the server named it; added by agent-p2p for display. */
  viewer?: string;
  state: 'connected' | 'failed' | 'closed';
  reason?: string;
  connectMs?: number;
  rttMs?: number;
  /** On `connected`: the viewer proved it holds the link key, over this very channel (channel binding). */
  verified?: boolean;
}

/** A signaling message or channel the host refused because it failed a link-key check. */
export interface UntrustedEvent {
  viewerId: string;
  what: 'signal-mac' | 'channel-binding';
  reason: string;
  /** Such refusals since the host started (both kinds). */
  count: number;
}

/** The session's link key and id: viewers holding the key get authenticated signaling and a verified channel. */
export interface LinkTrust {
  linkKey: string;
  sessionId: string;
  /** Refuse offers without a valid MAC (`wingman http --private`): only viewers holding the key get a channel. */
  required?: boolean;
}

export interface PeerInfo {
  viewerId: string;
  state: 'connecting' | 'connected';
  verified: boolean;
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
  /**
   * Where the host remembers its public address from its gathered candidates
   * and, unless `predictPublicCandidates` is false, predicts each new peer's
   * public candidate from it (predicted-candidate.ts). Default: a memory of its own.
   */
  publicAddress?: PublicAddressMemory;
  /** Send each host candidate's predicted public candidate right behind it. Default true. */
  predictPublicCandidates?: boolean;
  /** The link key of the session (docs/PROTOCOL.md §Verified channels); without it every viewer is unverified. */
  trust?: LinkTrust;
  /** A message with a wrong MAC was dropped, or a channel failed its binding (the CLI warns). */
  onUntrusted?(event: UntrustedEvent): void;
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
  /** The session's link key and id for offers from now on (a new session after a reconnect has a new id). */
  setTrust(trust: LinkTrust | undefined): void;
  close(): void;
}

/** Streams one viewer may have open at once, across its whole pool of channels. */
export const MAX_STREAMS_PER_VIEWER = DEFAULT_MAX_CONCURRENT_STREAMS;

/** What a viewer's peer connections share: the bounds count across all of them. */
interface ViewerShare {
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

interface Peer {
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
function peerKey(viewerId: string, index: number): string {
  return index === 0 ? viewerId : `${viewerId}/${index}`;
}

/** Streams open over all of a viewer's peer connections. */
function viewerStreams(share: ViewerShare): number {
  let n = 0;
  for (const p of share.peers) n += p.pool.streamCount;
  return n;
}

/** Data channels a viewer holds over all of its peer connections. */
function viewerChannels(share: ViewerShare): number {
  let n = 0;
  for (const p of share.peers) n += p.dcs.length;
  return n;
}

export function createPeerHost(options: PeerHostOptions): PeerHost {
  const peers = new Map<string, Peer>();
  const viewers = new Map<string, ViewerShare>();
  /** Peer connections closed with their channels, their own close a moment later (graceful-close.ts). */
  const closing = createPendingCloses();
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let iceServers = options.iceServers ?? [];
  const hideHost = options.hideHostCandidates === true;
  const publicAddress = options.publicAddress ?? new PublicAddressMemory();
  const predict = options.predictPublicCandidates !== false;
  /** A host candidate line of the answer that is trickled behind its prediction instead (host-candidate-hold.ts). */
  const heldInAnswer = (line: string) => predict && publicAddress.predict({ candidate: line.replace(/^a=/, '') }) !== undefined;
  /** A viewer's candidate on this agent's own public address: the viewer is behind the same NAT, on its LAN. */
  const behindOurAddress = (candidate: string) => {
    const ours = publicAddress.current()?.address;
    return ours !== undefined && candidateAddress(candidate) === ours;
  };
  const remotePolicy: RemoteCandidatePolicy = { acceptLoopback: options.acceptLoopbackCandidates === true, ownAddresses: ownAddresses() };
  /** A remote candidate the host would send STUN checks to for nothing, or to somewhere it must not: dropped. */
  const unreachable = (candidate: string) => unreachableReason(candidate, remotePolicy) !== undefined;
  const ownMaxMessageBytes = options.maxMessageBytes ?? DATA_CHANNEL_DEFAULT_MESSAGE_BYTES;
  let trustKeys: Promise<TrustKeys> | undefined;
  let keyRequired = false;
  const setTrust = (trust: LinkTrust | undefined) => {
    const bytes = trust ? linkKeyBytes(trust.linkKey) : undefined;
    trustKeys = trust && bytes ? deriveTrustKeys(bytes, trust.sessionId) : undefined;
    keyRequired = trust?.required === true;
  };
  setTrust(options.trust);
  let untrustedCount = 0;
  /** Peers whose offer came without a MAC though their candidates carry one (warned about once). */
  const strippedOffers = new WeakSet<Peer>();
  const untrusted = (viewerId: string, what: UntrustedEvent['what'], reason: string) => {
    untrustedCount++;
    try {
      options.onUntrusted?.({ viewerId, what, reason, count: untrustedCount });
    } catch {
      /* a reporting failure must not break the host */
    }
  };
  /** Each viewer's incoming signaling, checked and applied in order. */
  const inbound = createKeyedSerial((viewerId, err) => iceCandidateNotAdded(viewerId)(err));

  /** Sends to a peer's viewer after what it sent before; MACed when the viewer holds the link key. */
  function signal(peer: Peer, message: HostSignal): void {
    const keys = peer.keys;
    peer.out = peer.out
      .then(async () => {
        if (peer.closed && message.type !== 'error') return;
        const m = tagged(message, peer.index);
        const mac = keys && isMacedType(m.type) ? await signalMac(keys, 'agent', peer.viewerId, m as MacedSignal) : undefined;
        options.sendSignal(peer.viewerId, mac === undefined ? m : ({ ...m, mac } as HostSignal));
        if (m.type === 'answer') peer.trace('answer sent');
      })
      .catch(() => undefined);
  }

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
    peer.hostHold.stop();
    for (const stop of peer.stops) stop();
    peers.delete(peerKey(peer.viewerId, peer.index));
    for (const c of peer.pool.connections) c.close('ERR_GOING_AWAY', reason);
    closing.close(peer.pc, peer.dcs);
    const share = peer.share;
    share.peers.delete(peer);
    // The viewer's P2P ends with its last peer connection: one of several going changes nothing it reports.
    if (share.peers.size > 0) return;
    viewers.delete(share.viewerId);
    report({ viewerId: peer.viewerId, state, reason, ...(peer.rttMs !== undefined ? { rttMs: peer.rttMs } : {}) });
  }

  function sendCandidate(peer: Peer, c: RtcIceCandidateInit): void {
    signal(peer, {
      type: 'ice-candidate',
      candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
    });
  }

  function onChannel(peer: Peer, dc: RtcDataChannel): void {
    if (dc.label !== DATA_CHANNEL_LABEL || viewerChannels(peer.share) >= MAX_P2P_CHANNELS || peer.closed) {
      try {
        dc.close();
      } catch {
        /* ignore */
      }
      return;
    }
    peer.dcs.push(dc);
    if (peer.dcs.length === 1) dc.addEventListener('open', () => peer.trace('first data channel open'));
    const keys = peer.keys;
    // With the link key, each channel is bound before anything else flows on it: the viewer's first message
    // must prove it holds the link key on this very DTLS association.
    joinPool(dc, peer.pool, {
      ...(keys ? { bind: (c: DataChannelLike) => bindDataChannel(c, () => channelProofs(peer, keys)) } : {}),
      connect: (bound) => serve(peer, dc, bound),
    }).catch((err: unknown) => {
      if (!(err instanceof BindingError)) return closePeerEntry(peer, 'closed', 'data channel closed');
      if (err.refused) untrusted(peer.viewerId, 'channel-binding', err.message);
      closePeerEntry(peer, 'failed', `channel binding failed: ${err.message}`);
    });
    dc.addEventListener('close', () => closePeerEntry(peer, 'closed', 'data channel closed'));
  }

  /** This end's proof and the one expected from the viewer, from the fingerprints of the two descriptions (the viewer's came MACed). */
  async function channelProofs(peer: Peer, keys: TrustKeys): Promise<{ own: string; expected: string }> {
    const agent = sdpFingerprint(peer.pc.localDescription?.sdp ?? '');
    const viewer = sdpFingerprint(peer.pc.remoteDescription?.sdp ?? '');
    if (!agent || !viewer) throw new Error('a description has no sha-256 fingerprint');
    const fps = { agent, viewer };
    const [own, expected] = await Promise.all([bindingProof(keys, 'agent', fps), bindingProof(keys, 'viewer', fps)]);
    return { own, expected };
  }

  /** Serves protocol streams over one open channel of the pool (`bound`: the channel past its binding, or the channel itself). */
  function serve(peer: Peer, dc: RtcDataChannel, bound: DataChannelLike): Connection {
    const remoteMax = peer.pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(peer.pc.remoteDescription?.sdp ?? '');
    const conn = connectionOverDataChannel(bound, {
      role: 'server',
      maxWsMessageBytes: options.wsMaxMessageBytes ?? DEFAULT_WS_MESSAGE_LIMIT_BYTES,
      maxMessageBytes: dataChannelMessageBytes(remoteMax, ownMaxMessageBytes),
      maxConcurrentStreams: MAX_STREAMS_PER_VIEWER,
      windowGrowthBudget: peer.share.growth,
      // Once per event-loop turn, not per I/O callback: every send is a synchronous call into wrtc's
      // threads, and the answers of a page's burst of requests arrive together (docs/PROTOCOL.md §Scheduling).
      schedule: setImmediate,
      // One SCTP association per peer connection: its channels share their tail-loss probes.
      tailProbes: peer.tailProbes,
    });
    peer.share.lastActivity = Date.now();
    conn.on('stream', (stream) => {
      peer.share.lastActivity = Date.now();
      // The new stream is counted: its connection joined the pool at the viewer's HELLO, which came first.
      if (viewerStreams(peer.share) > MAX_STREAMS_PER_VIEWER) {
        return stream.reset('ERR_TOO_MANY_STREAMS', `at most ${MAX_STREAMS_PER_VIEWER} open streams per viewer`);
      }
      options.handleStream(stream, 'p2p', peer.viewerId);
    });
    conn.on('close', () => closePeerEntry(peer, 'closed', 'data channel closed'));
    if (!peer.connected && !peer.closed) {
      peer.connected = true;
      if (!peer.share.reported) {
        peer.share.reported = true;
        report({ viewerId: peer.viewerId, state: 'connected', connectMs: Date.now() - peer.startedAt, verified: peer.keys !== undefined });
      }
      monitor(peer, conn, dc);
    }
    return conn;
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
      const share = peer.share;
      if (viewerStreams(share) > 0) share.lastActivity = Date.now();
      if (Date.now() - share.lastActivity > idleTimeoutMs) closePeerEntry(peer, 'closed', 'idle');
    }, MONITOR_INTERVAL_MS);
    peer.stops.push(stop, () => clearInterval(idleCheck));
  }

  async function onOffer(viewerId: string, index: number, offered: string, keys: TrustKeys | undefined): Promise<void> {
    const existing = peers.get(peerKey(viewerId, index));
    if (existing) closePeerEntry(existing, 'closed', 'replaced by a new offer');
    const known = viewers.get(viewerId);
    const inOffer = sdpCandidates(offered).length;
    if (inOffer + (known?.remoteCandidates ?? 0) > MAX_REMOTE_CANDIDATES) {
      options.sendSignal(viewerId, tagged({ type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` }, index));
      if (!known) report({ viewerId, state: 'failed', reason: 'too many candidates' });
      return;
    }
    // Read again per offer: a laptop's addresses change as it moves between networks.
    remotePolicy.ownAddresses = ownAddresses();
    const sdp = withListedFormatsOnly(withoutCandidates(offered, unreachable));
    // The cap counts viewers: a striped viewer's peer connections are bounded by MAX_P2P_PEER_CONNECTIONS (the `pc` range).
    if (!known && viewers.size >= maxPeers) {
      options.sendSignal(
        viewerId,
        tagged({ type: 'error', code: 'ERR_TOO_MANY_PEERS', message: `this agent serves at most ${maxPeers} P2P viewers; staying on the relay` }, index),
      );
      report({ viewerId, state: 'failed', reason: 'too many peers' });
      return;
    }
    const share: ViewerShare = known ?? {
      viewerId,
      peers: new Set(),
      growth: { limit: DEFAULT_WINDOW_GROWTH_BUDGET_BYTES, reserved: 0 },
      remoteCandidates: 0,
      reported: false,
      lastActivity: Date.now(),
    };
    viewers.set(viewerId, share);
    share.remoteCandidates += inOffer;
    const trace = startIceTrace(viewerId, index);
    trace(`offer (${inOffer} candidates in it)`);
    const pc = createPeerConnection({ iceServers });
    const peer: Peer = {
      trace,
      viewerId,
      index,
      share,
      pc,
      dcs: [],
      pool: new ConnectionPool(),
      tailProbes: new TailProbeGroup(),
      startedAt: Date.now(),
      connected: false,
      remoteDescriptionSet: false,
      pendingRemote: [],
      remoteLoopback: false,
      heldLoopback: [],
      hostHold: new HostCandidateHold((c) => {
        if (!peer.closed) sendCandidate(peer, c);
      }),
      timers: [],
      stops: [],
      closed: false,
      out: Promise.resolve(),
      ...(keys ? { keys } : {}),
    };
    peers.set(peerKey(viewerId, index), peer);
    share.peers.add(peer);
    peer.timers.push(
      setTimeout(() => {
        if (!peer.connected) closePeerEntry(peer, 'failed', `no data channel within ${connectTimeoutMs} ms`);
      }, connectTimeoutMs),
    );
    pc.onicecandidate = (ev) => {
      if (peer.closed) return;
      if (!ev.candidate) {
        trace('gathering complete');
        return signal(peer, { type: 'end-of-candidates' });
      }
      const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
      if (!c.candidate) return;
      trace(`local candidate ${candidateKind(c.candidate)}`);
      publicAddress.observe(c.candidate);
      // The page may check the public candidate a round trip to the STUN server before it is gathered.
      const guess = predict ? publicAddress.predict(c) : undefined;
      if (guess) trace(`local candidate ${candidateKind(guess.candidate)} predicted`);
      if (hideHost) {
        if (!isHostCandidate(c.candidate)) sendCandidate(peer, { ...c, candidate: withoutRelatedAddress(c.candidate) });
        if (guess) sendCandidate(peer, guess);
        return;
      }
      if (isLoopbackCandidate(c.candidate) && !peer.remoteLoopback) peer.heldLoopback.push(c);
      else if (guess) {
        sendCandidate(peer, guess);
        peer.hostHold.hold(c);
      } else sendCandidate(peer, c);
    };
    pc.ondatachannel = (ev) => onChannel(peer, ev.channel);
    answerLossProbes(pc);
    pc.oniceconnectionstatechange = () => trace(`ICE ${pc.iceConnectionState}`);
    pc.onconnectionstatechange = () => {
      trace(`connection ${pc.connectionState}`);
      if (pc.connectionState === 'failed') closePeerEntry(peer, 'failed', 'ICE failed');
      else if (pc.connectionState === 'closed') closePeerEntry(peer, 'closed', 'peer connection closed');
    };
    if (sdpCandidates(sdp).some(isLoopbackCandidate)) revealLoopback(peer);
    if (sdpCandidates(sdp).some(behindOurAddress)) peer.hostHold.release();
    await pc.setRemoteDescription({ type: 'offer', sdp });
    peer.remoteDescriptionSet = true;
    for (const c of peer.pendingRemote.splice(0)) await pc.addIceCandidate(c).catch(iceCandidateNotAdded(viewerId));
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (peer.closed) return;
    const local = pc.localDescription?.sdp ?? answer.sdp;
    trace('answer');
    signal(peer, {
      type: 'answer',
      sdp: announceMaxMessageSize(answerCandidates(local, { loopback: peer.remoteLoopback, hideHost, held: heldInAnswer }), ownMaxMessageBytes),
    });
  }

  function revealLoopback(peer: Peer): void {
    if (peer.remoteLoopback) return;
    peer.remoteLoopback = true;
    for (const c of peer.heldLoopback.splice(0)) sendCandidate(peer, c);
  }

  function onCandidate(peer: Peer, c: RtcIceCandidateInit): void {
    if (++peer.share.remoteCandidates > MAX_REMOTE_CANDIDATES) {
      signal(peer, { type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` });
      return closePeerEntry(peer, 'failed', 'too many candidates');
    }
    if (unreachable(c.candidate)) return peer.trace(`remote candidate ${candidateKind(c.candidate)} dropped`);
    peer.trace(`remote candidate ${candidateKind(c.candidate)}`);
    if (isLoopbackCandidate(c.candidate)) revealLoopback(peer);
    if (behindOurAddress(c.candidate)) peer.hostHold.release();
    if (!peer.remoteDescriptionSet) peer.pendingRemote.push(c);
    else void peer.pc.addIceCandidate(c).catch(iceCandidateNotAdded(peer.viewerId));
  }

  /**
   * The keys a message was MACed with, true for a message that needs none,
   * false for one to drop. A viewer without the link key sends no MACs and
   * stays unverified; once an offer came MACed, its peer's messages must be.
   * A MACed candidate of a peer whose offer came without a MAC says the
   * viewer holds the key and its offer lost the MAC on the way: the agent
   * warns, once per peer, and drops those messages (the viewer, for its
   * part, drops the agent's unsigned answer and says so).
   */
  async function checked(viewerId: string, message: ViewerSignal): Promise<TrustKeys | boolean> {
    if (!isMacedType(message.type)) return true;
    const mac = 'mac' in message ? message.mac : undefined;
    const peer = message.type === 'offer' ? undefined : peers.get(peerKey(viewerId, peerIndex(message)));
    const keys = message.type === 'offer' ? (mac !== undefined ? await trustKeys : undefined) : peer?.keys;
    if (peer && !keys && mac !== undefined && trustKeys) {
      if (!strippedOffers.has(peer)) {
        strippedOffers.add(peer);
        untrusted(
          viewerId,
          'signal-mac',
          `a MAC on ${message.type === 'ice-candidate' ? 'a candidate' : `the ${message.type}`} of a viewer whose offer came without one`,
        );
      }
      return false;
    }
    if (!keys && message.type === 'offer' && keyRequired) {
      options.sendSignal(
        viewerId,
        tagged(
          {
            type: 'error',
            code: 'ERR_LINK_KEY_REQUIRED',
            message: "this session is private: it is served only over a channel verified with the link's key (#k=…)",
          },
          peerIndex(message),
        ),
      );
      report({ viewerId, state: 'failed', reason: 'no link key (private session)' });
      return false;
    }
    if (!keys) return true;
    if (await signalMacValid(keys, 'viewer', viewerId, message as MacedSignal, mac)) return keys;
    untrusted(
      viewerId,
      'signal-mac',
      `${mac === undefined ? 'no MAC on' : 'a wrong MAC on'} ${message.type === 'ice-candidate' ? 'a candidate' : `the ${message.type}`}`,
    );
    return false;
  }

  function apply(viewerId: string, message: ViewerSignal, keys: TrustKeys | undefined): void {
    const index = peerIndex(message);
    const peer = peers.get(peerKey(viewerId, index));
    switch (message.type) {
      case 'offer':
        onOffer(viewerId, index, message.sdp, keys).catch((err: unknown) => {
          const p = peers.get(peerKey(viewerId, index));
          options.sendSignal(
            viewerId,
            tagged({ type: 'error', code: 'ERR_BAD_OFFER', message: `could not answer the offer: ${(err as Error).message}` }, index),
          );
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
  }

  return {
    handleSignal(viewerId, message) {
      inbound.run(viewerId, async () => {
        const verdict = await checked(viewerId, message);
        if (verdict !== false) apply(viewerId, message, verdict === true ? undefined : verdict);
      });
    },
    viewerLeft(viewerId) {
      for (const peer of [...(viewers.get(viewerId)?.peers ?? [])]) {
        if (!peer.connected) closePeerEntry(peer, 'closed', 'viewer left before connecting');
        // Its signaling socket closed without a bye (a tab or browser gone): a departure once its channel answers nothing,
        // not the 'ICE failed' that would follow seconds later. A channel that answers (a network blip to the server) lives on.
        else if (peer.pool.connections[0]) void peerGone(peer.pool.connections[0]).then((gone) => gone && closePeerEntry(peer, 'closed', 'viewer left'));
      }
    },
    closePeer(viewerId, reason) {
      for (const peer of [...(viewers.get(viewerId)?.peers ?? [])]) closePeerEntry(peer, 'closed', reason);
    },
    peers() {
      // One entry per viewer, however many peer connections it stripes over (the first connected one speaks for it).
      return [...viewers.values()].map((share) => {
        const all = [...share.peers];
        const p = all.find((x) => x.connected) ?? all[0]!;
        return {
          viewerId: share.viewerId,
          state: p.connected ? 'connected' : 'connecting',
          verified: p.keys !== undefined,
          ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}),
          streams: viewerStreams(share),
        };
      });
    },
    setIceServers(servers) {
      iceServers = servers;
    },
    setTrust,
    close() {
      for (const p of [...peers.values()]) closePeerEntry(p, 'closed', 'agent closing');
      closing.flush();
    },
  };
}
