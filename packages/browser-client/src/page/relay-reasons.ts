/**
 * What the badge says after `Relay · ` when a P2P attempt failed, by the
 * attempt's reason (attempt-types.ts AttemptReason). The P2P manager (p2p.ts)
 * adds its own: `connecting` before the first attempt ends, `channel closed`
 * and `channel unresponsive` (its heartbeat or the browser's ICE checks got
 * no answer) when a channel ends, and ` · reconnecting` / ` ·
 * gave up` after any of them while it tries again or once it stopped trying.
 */
import type { AttemptReason } from './attempt-types';

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
