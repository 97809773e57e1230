/**
 * What the P2P host is given and what it answers: its options, its reports
 * and its interface, with the defaults and limits that go with them.
 */
import { DEFAULT_MAX_CONCURRENT_STREAMS, type HostSignal, type IceServer, type Stream, type ViewerSignal } from '@wingman/protocol';

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

/** Streams one viewer may have open at once over its channel. */
export const MAX_STREAMS_PER_VIEWER = DEFAULT_MAX_CONCURRENT_STREAMS;
