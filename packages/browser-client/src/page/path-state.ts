/**
 * What the shell tells the Service Worker of its channel and path (pure): lossy from its loss probe's verdict
 * on, later channels included, until a full probe finds it clean; `probing` while the probe has no verdict;
 * the switched-off speed mechanisms once a channel brought them.
 */
import { LOSS_PROBE_COUNT } from '@wingman/protocol';
import type { TransportStatus } from './p2p';
import type { ShellPathState } from './sw-link';

export function createPathState() {
  let lossy = false;
  let clean = false;
  /** The server's switched-off speed mechanisms, from the first channel's status on (a session's setting: kept across channels). */
  let off: ShellPathState['off'];
  const state = (p2p: boolean, turn: boolean, probing = false): ShellPathState => ({
    p2p,
    ...(off ? { off } : {}),
    ...(turn ? { turn: true } : {}),
    ...(lossy ? { lossy: true } : clean ? { lossClean: true } : {}),
    ...(probing && !lossy ? { probing: true } : {}),
  });
  return {
    /** What to announce on a new status. */
    next(s: TransportStatus): ShellPathState {
      if (s.transport === 'p2p' && s.lossy) {
        lossy = true;
        clean = false;
      } else if (s.transport === 'p2p' && s.loss && s.loss.sent >= LOSS_PROBE_COUNT) {
        // Every probe went and too few were lost: an earlier lossy verdict no longer holds. A
        // measurement cut short (the deadline, no answer at all) says nothing either way.
        lossy = false;
        clean = true;
      }
      const p2p = s.transport === 'p2p';
      if (p2p && s.off) off = s.off;
      return state(p2p, p2p && s.turn === true, p2p && s.probing === true);
    },
  };
}
