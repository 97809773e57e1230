/**
 * What the shell tells the Service Worker about its channel and its path
 * (sw-link.ts ShellPathState), from the P2P manager's statuses and what the
 * tab's last loss probe found (loss-probe-memo.ts; docs/PROTOCOL.md §Loss
 * probe). A path the tab last found lossy is announced lossy from the
 * shell's first announcement on, before its channel is up, until this
 * shell's own probe, run in full, finds it clean, or its channel's hello
 * says the server runs no probe: a reload's module wave then goes around
 * the coming channel from its first request. While the channel's own probe
 * has called the path neither lossy nor clean, the state says `probing`, and
 * a first visit's wave goes around the channel until it does. Pure:
 * statuses in, states out.
 */
import { LOSS_PROBE_COUNT } from '@wingman/protocol';
import type { TransportStatus } from './p2p';
import type { ShellPathState } from './sw-link';

export interface PathState {
  /** What to announce before any status (no channel yet). */
  initial(): ShellPathState;
  /** What to announce on a new status. */
  next(s: TransportStatus): ShellPathState;
}

/** `rememberedLossy`: the tab's last probe found the path lossy (loss-probe-memo.ts lossyRemembered). */
export function createPathState(rememberedLossy: boolean): PathState {
  let lossy = rememberedLossy;
  let clean = false;
  const state = (p2p: boolean, turn: boolean, probing = false): ShellPathState => ({
    p2p,
    ...(turn ? { turn: true } : {}),
    ...(lossy ? { lossy: true } : clean ? { lossClean: true } : {}),
    ...(probing && !lossy ? { probing: true } : {}),
  });
  return {
    initial: () => state(false, false),
    next(s) {
      if (s.transport === 'p2p' && s.lossProbeOff) {
        // The server runs no probe: what the tab remembered will not be measured again, so it is
        // withdrawn as a clean probe would withdraw it (the SW drops a verdict it took from it).
        lossy = false;
        clean = true;
      } else if (s.transport === 'p2p' && s.lossy) {
        lossy = true;
        clean = false;
      } else if (s.transport === 'p2p' && s.loss && s.loss.at === undefined && s.loss.sent >= LOSS_PROBE_COUNT) {
        // Every probe went and too few were lost: whatever the tab remembered no longer holds. A
        // measurement cut short (the deadline, no answer at all) says nothing either way, nor do
        // the figures of an earlier channel's measurement (`at`) that this one shows.
        lossy = false;
        clean = true;
      }
      const p2p = s.transport === 'p2p';
      return state(p2p, p2p && s.turn === true, p2p && s.probing === true);
    },
  };
}
