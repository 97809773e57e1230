/** The P2P host's options, reports and interface, with their defaults and limits. */
import { isSessionLabel, LINK_KEY_PATTERN, type HostSignal, type IceServer, type Stream, type ViewerSignal } from '@wingman/protocol';
import { z } from 'zod';
import type { PublicAddressMemory } from './predicted-candidate';

/** Each peer costs a DTLS/SCTP association and a few threads' work in wrtc. */
export const DEFAULT_MAX_PEERS = 32;
/** Offer to open data channel, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** Protocol PINGs over an open channel (RTT, liveness), ms; also how often idleness is checked. */
export const MONITOR_INTERVAL_MS = 5_000;
/** One interval: one PING in flight at a time. */
export const MONITOR_TIMEOUT_MS = MONITOR_INTERVAL_MS;
/**
 * Missed PONGs in a row (each with no progress on the channel) that close the
 * peer: 15 s, one more than the page's 2, so the page sees a dead channel first.
 */
export const MONITOR_MAX_MISSED = 3;
/** How long a closed peer's connection outlives its channels (a viewer's own close of it comes first, a round trip later; graceful-close.ts). */
export const PEER_CLOSE_GRACE_MS = 1_000;
/** Close a peer that carried no stream this long, ms (the viewer reconnects on demand). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

/** Longest viewer id taken from the host process: the server's ids are far shorter. */
export const MAX_WIRE_VIEWER_ID_CHARS = 256;
export const viewerIdSchema = z.string().min(1).max(MAX_WIRE_VIEWER_ID_CHARS);
export const durationMs = () => z.number().finite().nonnegative();

export const peerReportSchema = z.object({
  /** The signaling viewer: one per P2P channel. */
  viewerId: viewerIdSchema,
  state: z.enum(['connected', 'failed', 'closed']),
  reason: z.string().max(1024).optional(),
  connectMs: durationMs().optional(),
  rttMs: durationMs().optional(),
  /** The viewer proved it holds the link key over this very channel. */
  verified: z.boolean().optional(),
});
/**
 * `viewer`: the viewer's visitor id, when the server named it; added by agent-p2p for display.
 * `hostPid`: the agent's P2P host process serving this viewer (per-viewer-hosts.ts); the agent's own, never sent to the server.
 */
export type PeerReport = z.infer<typeof peerReportSchema> & { viewer?: string; hostPid?: number };

/** A signaling message or channel refused for failing a link-key check. */
export const untrustedSchema = z.object({
  viewerId: viewerIdSchema,
  what: z.enum(['signal-mac', 'channel-binding']),
  reason: z.string().max(1024),
  /** Since the host started (both kinds). */
  count: z.number().int().nonnegative(),
});
export type UntrustedEvent = z.infer<typeof untrustedSchema>;

/** Viewers holding the session's link key get authenticated signaling and a verified channel. */
export const linkTrustSchema = z.object({
  linkKey: z.string().regex(LINK_KEY_PATTERN),
  /** A random id or a stable name (--name). */
  sessionId: z.string().refine(isSessionLabel, 'not a session id or name'),
  /** `--private`: refuse offers without a valid MAC. */
  required: z.boolean().optional(),
});
export type LinkTrust = z.infer<typeof linkTrustSchema>;

export interface PeerInfo {
  viewerId: string;
  state: 'connecting' | 'connected';
  verified: boolean;
  rttMs?: number;
  streams: number;
}

export interface PeerHostOptions {
  handleStream(stream: Stream, transport: 'p2p', viewerId: string): void;
  /** Through the tunnel server. */
  sendSignal(viewerId: string, message: HostSignal): void;
  /** Peer lifecycle (CLI display, server metrics). */
  report?(report: PeerReport): void;
  /** After each monitor ping. */
  onRtt?(viewerId: string, rttMs: number): void;
  /** From the tunnel server's `registered.p2p`. */
  iceServers?: IceServer[];
  connectTimeoutMs?: number;
  /** Largest WebSocket message a viewer may send, bytes. */
  wsMaxMessageBytes?: number;
  /** Largest data-channel message both ways: announced in the answer (a=max-message-size). */
  maxMessageBytes?: number;
  /** The tunnel server is on loopback, so viewers are on this machine. */
  acceptLoopbackCandidates?: boolean;
  /** Viewers never learn this machine's addresses (P2P then needs STUN or TURN). */
  hideHostCandidates?: boolean;
  /** Where the host learns its public address from its gathered candidates, to predict each peer's public candidate (predicted-candidate.ts). */
  publicAddress?: PublicAddressMemory;
  /** Send each host candidate's predicted public candidate ahead of it. Default true. */
  predictPublicCandidates?: boolean;
  /** docs/PROTOCOL.md §Verified channels; without it every viewer is unverified. */
  trust?: LinkTrust;
  /** The CLI warns. */
  onUntrusted?(event: UntrustedEvent): void;
}

export interface PeerHost {
  /** Never throws. */
  handleSignal(viewerId: string, message: ViewerSignal): void;
  /** Its signaling socket closed: drop the peer if it never connected. */
  viewerLeft(viewerId: string): void;
  /** Connected or not (the developer refused the viewer). */
  closePeer(viewerId: string, reason: string): void;
  peers(): PeerInfo[];
  /** For peers created from now on (credentials are renewed on every registration). */
  setIceServers(servers: IceServer[]): void;
  /** For offers from now on (a new session after a reconnect has a new id). */
  setTrust(trust: LinkTrust | undefined): void;
  close(): void;
}
