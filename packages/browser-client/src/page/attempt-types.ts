/** What a P2P attempt (attempt.ts, peer-session.ts) gives the page: the live session, or the error naming the badge's reason. */
import type { ChannelFingerprints, Connection, LossProbeOptions, LossProbeResult, SpeedSwitch } from '@wingman/protocol';

/** Why an attempt failed. `offline`: the server says the agent is away (restarting). `altered`: it got no channel after the link key's checks dropped signaling (a path that rewrote it). */
export type AttemptReason = 'disabled' | 'offline' | 'signaling' | 'ice-timeout' | 'ice-failed' | 'refused' | 'unsupported' | 'unverified' | 'altered';

/**
 * What the badge says after `Relay · ` when a P2P attempt failed, by its reason. The P2P manager
 * (p2p.ts) adds its own (`connecting`, `channel closed`, ` · reconnecting`, ` · gave up`, …).
 */
export const ATTEMPT_REASON_WORDS: Readonly<Record<AttemptReason, string>> = {
  disabled: 'P2P disabled by server/agent',
  offline: 'agent offline',
  signaling: 'signaling failed',
  'ice-timeout': 'ICE timeout',
  'ice-failed': 'ICE failed',
  refused: 'refused by agent',
  unsupported: 'no WebRTC in this browser',
  unverified: 'channel not verified',
  altered: 'signaling was altered',
};

export class AttemptError extends Error {
  override readonly name = 'AttemptError';
  constructor(
    readonly reason: AttemptReason,
    message: string,
    /** Retrying cannot help (P2P disabled, no WebRTC in this browser). */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface PeerSession {
  /** The channel's connection: every stream goes on it, and the heartbeat (RTT, liveness) runs on it. */
  readonly connection: Connection;
  /** The data channel (tests close it to simulate a network failure). */
  readonly channel: RTCDataChannel;
  readonly viewerId: string;
  /** Start of the attempt → protocol HELLO received, ms. */
  readonly connectMs: number;
  /** The channel ends at the holder of the link key (MACed signaling and channel binding passed). */
  readonly verified: boolean;
  /** The fingerprints the binding covered (verified channels). */
  readonly fingerprints?: ChannelFingerprints;
  /** Closes everything (bye to the agent). Idempotent. */
  close(reason: string): void;
  /** Called once when the channel is gone (closed by either side, or failed). */
  onClosed(fn: (reason: string) => void): void;
  /** The peer connection's getStats() (the diagnostics page reads the selected pair's types and the byte counts). */
  stats(): Promise<RTCStatsReport | undefined>;
  /**
   * The loss probe (docs/PROTOCOL.md §Loss probe), run once per session: undefined without a probe channel or
   * with the probe off. Its events come before it ends: `onLossy` at once, `onEarlyClean` once enough came back.
   */
  lossProbe(events?: Pick<LossProbeOptions, 'onLossy' | 'onEarlyClean'>): Promise<LossProbeResult | undefined>;
  /** The server turned the loss probe off for this session (the hello's p2p.lossProbe is false). */
  readonly lossProbeOff: boolean;
  /** The speed mechanisms the server switched off (the hello's p2p settings that are false), for the Service Worker. */
  readonly switchedOff: SpeedSwitch[];
  /** Tells the agent (through the server) how the channel is doing: metrics. */
  report(state: 'connected' | 'failed', extra?: { reason?: string; rttMs?: number }): void;
}

/** What the link key's checks refused: a signaling message ('signal-mac') or a channel ('channel-binding'). */
export type UntrustedReport = (code: 'signal-mac' | 'channel-binding', message: string) => void;
