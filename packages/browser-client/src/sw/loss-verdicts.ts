/**
 * The shells' loss-probe verdicts (docs/PROTOCOL.md §Loss probe) into the
 * path choice: a shell whose channel's probe found the path lossy says so
 * in each announcement while that channel lasts; the verdict is taken once
 * per channel, so once lone requests have cleared it (path-choice.ts), the
 * shell's next status update does not set it again.
 */
import type { ShellAnnounce } from '../shared/messages';
import type { PathChooser } from './path-choice';

/** Shells remembered at most: an entry is dropped when its channel goes; past this, all are (a verdict then may be taken twice). */
const MAX_SHELLS = 64;

export interface LossVerdicts {
  /** A shell's announcement, before the registry takes it. */
  announced(m: ShellAnnounce): void;
}

export function createLossVerdicts(paths: Pick<PathChooser, 'lossSeen'>): LossVerdicts {
  /** Shells whose current channel's verdict was taken. */
  const taken = new Set<string>();
  return {
    announced(m) {
      if (!m.p2p || !m.lossy) {
        taken.delete(m.shellId);
        return;
      }
      if (taken.has(m.shellId)) return;
      if (taken.size >= MAX_SHELLS) taken.clear();
      taken.add(m.shellId);
      paths.lossSeen();
    },
  };
}
