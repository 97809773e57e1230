/** How a P2P attempt (attempt.ts, peer-session.ts) fails: the error naming the badge's reason. */

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

/**
 * By its name and reason, not `instanceof`: the shell's inline script and
 * client.js are two bundles, each with its own AttemptError class, and the
 * attempt the inline script started fails with the inline one.
 */
export function isAttemptError(err: unknown): err is AttemptError {
  return err instanceof Error && err.name === 'AttemptError' && typeof (err as Partial<AttemptError>).reason === 'string';
}

/** What the link key's checks refused: a signaling message ('signal-mac') or a channel ('channel-binding'). */
export type UntrustedReport = (code: 'signal-mac' | 'channel-binding', message: string) => void;
