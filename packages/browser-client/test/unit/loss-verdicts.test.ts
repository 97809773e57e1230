/**
 * The shells' loss-probe verdicts into the path choice (sw/loss-verdicts.ts):
 * once per channel, so lone requests can clear it while the shell keeps
 * re-announcing; a new channel's verdict counts again.
 */
import type { ShellAnnounce } from '../../src/shared/messages';
import { createLossVerdicts } from '../../src/sw/loss-verdicts';
import { PathChooser, STALL_CLEAR_SAMPLES } from '../../src/sw/path-choice';

const announce = (shellId: string, p2p: boolean, lossy?: boolean, lossClean?: boolean): ShellAnnounce => ({
  type: 'wingman:shell',
  shellId,
  p2p,
  exclude: [],
  ...(lossy ? { lossy } : {}),
  ...(lossClean ? { lossClean } : {}),
});
const clean = (c: PathChooser) => {
  for (let i = 0; i < STALL_CLEAR_SAMPLES; i++) c.recordHead('p2p', 'small', 66, 1_000 + i);
};

describe('loss-probe verdicts in the Service Worker', () => {
  it('takes a lossy channel as a stall verdict once, not again on its re-announcements', () => {
    const paths = new PathChooser();
    const verdicts = createLossVerdicts(paths);
    verdicts.announced(announce('s1', true));
    expect(paths.stalls('p2p')).toBe(false);
    verdicts.announced(announce('s1', true, true));
    expect(paths.stalls('p2p')).toBe(true);
    clean(paths);
    expect(paths.stalls('p2p')).toBe(false);
    // The shell's next RTT update re-announces the same channel.
    verdicts.announced(announce('s1', true, true));
    expect(paths.stalls('p2p')).toBe(false);
  });

  it("takes it again from the shell's next channel, and from another shell's", () => {
    const paths = new PathChooser();
    const verdicts = createLossVerdicts(paths);
    verdicts.announced(announce('s1', true, true));
    clean(paths);
    verdicts.announced(announce('s1', false));
    verdicts.announced(announce('s1', true, true));
    expect(paths.stalls('p2p')).toBe(true);
    clean(paths);
    verdicts.announced(announce('s2', true, true));
    expect(paths.stalls('p2p')).toBe(true);
  });

  it("takes a shell's verdict while it is between channels, and once more when the next one opens", () => {
    const paths = new PathChooser();
    const verdicts = createLossVerdicts(paths);
    verdicts.announced(announce('s1', false, true));
    expect(paths.stalls('p2p')).toBe(true);
    clean(paths);
    verdicts.announced(announce('s1', false, true));
    expect(paths.stalls('p2p')).toBe(false);
    verdicts.announced(announce('s1', true, true));
    expect(paths.stalls('p2p')).toBe(true);
  });

  it('takes the verdict back when the same shell finds the path clean, not when another shell does', () => {
    const paths = new PathChooser();
    const verdicts = createLossVerdicts(paths);
    verdicts.announced(announce('s1', false, true));
    verdicts.announced(announce('s2', true, false, true));
    expect(paths.stalls('p2p')).toBe(true);
    verdicts.announced(announce('s1', true, false, true));
    expect(paths.stalls('p2p')).toBe(false);
    // Said again on each status update: nothing more to take back.
    verdicts.announced(announce('s3', true, true));
    verdicts.announced(announce('s1', true, false, true));
    expect(paths.stalls('p2p')).toBe(true);
  });

  it('keeps the verdict when a shell goes away (no lossy flag, no clean probe)', () => {
    const paths = new PathChooser();
    const verdicts = createLossVerdicts(paths);
    verdicts.announced(announce('s1', true, true));
    verdicts.announced(announce('s1', false));
    expect(paths.stalls('p2p')).toBe(true);
  });
});
