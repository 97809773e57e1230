/**
 * Whether the P2P path is lossy, for route-decision.ts's `stalls()` (rule 5) and `probing()` (rule 6):
 * from lone small requests' times, held until STALL_CLEAR_SAMPLES lone ones in a row had no stall, and
 * from the shells' loss-probe verdicts and pending probes. docs/browser-client.md §Routing rules.
 */
import type { ShellAnnounce } from '../shared/messages';

/** A lone time over STALL_FACTOR × the best and STALL_EXTRA_MS above it is a stall: a packet sent again, not jitter (clean paths stay within 1.3×). */
const STALL_FACTOR = 1.6;
const STALL_EXTRA_MS = 50;
/** Stalls among the recent lone requests that make the verdict. */
export const STALL_MIN_COUNT = 3;
/** Lone requests in a row within the stall limit that clear a remembered verdict (at 2 % loss, 20 without a stall happen about one time in five). */
export const STALL_CLEAR_SAMPLES = 20;
/** Shells whose loss verdict is remembered at most: past this, all are forgotten (a verdict may then be taken twice). */
const MAX_SHELLS = 64;

export class LossyPath {
  /** The recent lone requests show stalls now. */
  private observed = false;
  /** A verdict kept after its samples aged out, or the loss probe's, until lone requests clear it. */
  private remembered = false;
  /** Lone requests in a row within the stall limit. */
  private cleanRun = 0;
  /** The remembered verdict rests on a loss probe alone: a clean probe may take it back. */
  private probeOnly = false;
  /** Shells whose `lossy` was taken, and whether they had a channel then. */
  private readonly taken = new Map<string, boolean>();
  /** Shells whose channel's loss probe has given no verdict yet (the diagnostics reply names them). */
  readonly pending = new Set<string>();

  /** P2P stalls: seen in lone requests' times, or remembered, or said by a loss probe. */
  stalls(): boolean {
    return this.observed || this.remembered;
  }

  /** The loss probe of `shellId`'s channel (undefined: of any shell's) has given no verdict yet. */
  probing(shellId?: string): boolean {
    return shellId === undefined ? this.pending.size > 0 : this.pending.has(shellId);
  }

  /** A lone small request over P2P took `ms` to its head; `window`: the lone times path-choice.ts keeps, this one included. */
  lone(ms: number, window: readonly number[]): void {
    const best = Math.min(...window);
    const limit = Math.max(best * STALL_FACTOR, best + STALL_EXTRA_MS);
    const observed = window.filter((t) => t > limit).length >= STALL_MIN_COUNT;
    if (this.observed && !observed) this.remembered = true;
    this.observed = observed;
    this.cleanRun = ms > limit ? 0 : this.cleanRun + 1;
    if (this.cleanRun >= STALL_CLEAR_SAMPLES) this.remembered = false;
    // Lone requests decided it (stalled, or cleared it): no longer the probe's alone.
    if (observed || !this.remembered) this.probeOnly = false;
  }

  announced(m: ShellAnnounce): void {
    if (m.p2p && m.probing === true) this.pending.add(m.shellId);
    else this.pending.delete(m.shellId);
    if (m.lossClean && this.taken.has(m.shellId) && this.probeOnly) {
      this.probeOnly = false;
      this.remembered = false;
      this.cleanRun = 0;
    }
    if (!m.lossy) {
      this.taken.delete(m.shellId);
      return;
    }
    if (this.taken.get(m.shellId) === m.p2p) return;
    if (!this.taken.has(m.shellId) && this.taken.size >= MAX_SHELLS) this.taken.clear();
    this.taken.set(m.shellId, m.p2p);
    if (this.stalls()) return;
    this.remembered = true;
    this.probeOnly = true;
    this.cleanRun = 0;
  }

  /** The registry forgot a shell (its window is gone, or replaced): its pending probe goes with it. */
  gone(shellId: string): void {
    this.pending.delete(shellId);
  }
}
