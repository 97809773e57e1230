/**
 * The shells' loss-probe verdicts (docs/PROTOCOL.md §Loss probe) into the
 * path choice. A shell says its path is lossy in each announcement while it
 * holds that verdict: from its channel's probe on, between channels too,
 * until a later probe finds the path clean. The verdict is taken once per
 * channel and once while the shell is between channels, so once lone
 * requests have cleared it (path-choice.ts), the shell's next status update
 * does not set it again. A shell whose probe then finds the path clean takes
 * back the verdict it gave.
 */
import type { ShellAnnounce } from '../shared/messages';
import type { PathChooser } from './path-choice';

/** Shells remembered at most: an entry is dropped when its verdict goes; past this, all are (a verdict then may be taken twice). */
const MAX_SHELLS = 64;

export interface LossVerdicts {
  /** A shell's announcement, before the registry takes it. */
  announced(m: ShellAnnounce): void;
}

export function createLossVerdicts(paths: Pick<PathChooser, 'lossSeen' | 'lossCleared'>): LossVerdicts {
  /** Shells whose verdict was taken, and whether they had a channel then. */
  const taken = new Map<string, boolean>();
  return {
    announced(m) {
      if (m.lossClean && taken.has(m.shellId)) paths.lossCleared();
      if (!m.lossy) {
        taken.delete(m.shellId);
        return;
      }
      if (taken.get(m.shellId) === m.p2p) return;
      if (!taken.has(m.shellId) && taken.size >= MAX_SHELLS) taken.clear();
      taken.set(m.shellId, m.p2p);
      paths.lossSeen();
    },
  };
}
