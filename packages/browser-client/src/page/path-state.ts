/**
 * What the shell tells the Service Worker of its channel and path: lossy from a loss probe's verdict on, later
 * channels included, until a full probe finds it clean; `probing` while the probe has no verdict and no full
 * probe found the path clean; the switched-off speed mechanisms once a channel brought them. The verdict is the
 * tab's (sessionStorage, VERDICT_KEEP_MS): a reload's module wave goes around a path the tab found lossy, and
 * does not wait for its new channel's probe on one it found clean (the probe still runs and may say lossy).
 */
import { LOSS_PROBE_COUNT } from '@wingman/protocol';
import { LOSS_VERDICT_STORAGE_KEY } from '../shared/constants';
import { quietly } from '../shared/quietly';
import type { TransportStatus } from './p2p';
import type { ShellPathState } from './sw-link';

/** How long a tab's verdict stands for its later page loads, ms: a laptop that moved networks meanwhile probes afresh. */
export const VERDICT_KEEP_MS = 10 * 60_000;

/** Where the verdict is kept (sessionStorage: the tab's, across its reloads and navigations). */
export type VerdictStore = Pick<Storage, 'getItem' | 'setItem'>;

type Verdict = 'lossy' | 'clean' | undefined;

function readVerdict(store: VerdictStore | undefined, now: number): Verdict {
  const [verdict, at] = (quietly(() => store?.getItem(LOSS_VERDICT_STORAGE_KEY)) ?? '').split(' ');
  const age = now - Number(at);
  return (verdict === 'lossy' || verdict === 'clean') && age >= 0 && age < VERDICT_KEEP_MS ? verdict : undefined;
}

export function createPathState(store: VerdictStore | undefined = quietly(() => window.sessionStorage), now = Date.now) {
  const kept = readVerdict(store, now());
  let lossy = kept === 'lossy';
  let clean = kept === 'clean';
  const keep = (verdict: 'lossy' | 'clean') => quietly(() => store?.setItem(LOSS_VERDICT_STORAGE_KEY, `${verdict} ${now()}`));
  /** The server's switched-off speed mechanisms, from the first channel's status on (a session's setting: kept across channels). */
  let off: ShellPathState['off'];
  const state = (p2p: boolean, turn: boolean, probing = false): ShellPathState => ({
    p2p,
    ...(off ? { off } : {}),
    ...(turn ? { turn: true } : {}),
    ...(lossy ? { lossy: true } : clean ? { lossClean: true } : {}),
    ...(probing && !lossy && !clean ? { probing: true } : {}),
  });
  return {
    next(s: TransportStatus): ShellPathState {
      if (s.transport === 'p2p' && s.lossy) {
        if (!lossy) keep('lossy');
        lossy = true;
        clean = false;
      } else if (s.transport === 'p2p' && s.loss && s.loss.sent >= LOSS_PROBE_COUNT) {
        // Every probe went and too few were lost: an earlier lossy verdict no longer holds. A
        // measurement cut short (the deadline, no answer at all) says nothing either way.
        if (!clean) keep('clean');
        lossy = false;
        clean = true;
      }
      const p2p = s.transport === 'p2p';
      if (p2p && s.off) off = s.off;
      return state(p2p, p2p && s.turn === true, p2p && s.probing === true);
    },
  };
}
