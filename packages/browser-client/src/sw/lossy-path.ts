/**
 * Whether the P2P path is lossy, from every input that says so, and the two
 * answers the routing rules (route-decision.ts) take from it: `stalls()`
 * (rules 4 and 7, and leaving a request to the browser) and `probing()`
 * (rule 8). On one ordered data channel a lost packet holds every request
 * behind it until its retransmission, so a page load's burst over a lossy
 * path meets stall after stall, while a lone request mostly does not.
 *
 * Inputs:
 *  - lone small P2P requests' times to the head (`lone`, from path-choice.ts
 *    and its window of them): a stall is a time over STALL_FACTOR × the best
 *    and STALL_EXTRA_MS above it, a packet lost and sent again, not jitter.
 *    With tail-loss probes on the channel (docs/PROTOCOL.md §Tail-loss
 *    probes) SCTP repairs a lone exchange's loss in about one more round trip
 *    (over 2 % loss: five of 50 at 128–141 ms against a 66 ms best; without
 *    the probes ~470 ms); on clean paths the slowest of 50 was within 1.3× the
 *    best. A P2P time leaves out what the agent and the app took
 *    (agent-time.ts); the 50 ms keep a busy page out of it. STALL_MIN_COUNT
 *    stalls in the window make the verdict; it outlasts its samples (a lossy
 *    link stays lossy, its stalls just age out) until STALL_CLEAR_SAMPLES lone
 *    requests in a row came back without one;
 *  - the shells' loss-probe verdicts (`announced`: docs/PROTOCOL.md §Loss
 *    probe): a shell says `lossy` in each announcement while it holds that
 *    verdict, which is taken once per channel and once while the shell is
 *    between channels (so lone requests can clear it), held like a remembered
 *    stall; the same shell's `lossClean` takes back a verdict that rests on
 *    the probe alone;
 *  - the shells whose channel's loss probe has given no verdict yet
 *    (`probing` in their announcements, at most LOSS_PROBE_HOLD_MS), until
 *    they say otherwise or are gone (`gone`).
 */
import type { ShellAnnounce } from '../shared/messages';

export const STALL_FACTOR = 1.6;
export const STALL_EXTRA_MS = 50;
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
  /** Shells whose channel's loss probe has given no verdict yet. */
  private readonly pending = new Set<string>();

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

  /** A shell's announcement. */
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
