/**
 * Offers that outlive a P2P host crash (often as a reviewer's page navigates
 * and its new offer reaches a host that is down): while the restart is due
 * within HOLD_RESTART_MAX_MS, viewers' negotiation signals go to the next host
 * as it starts, instead of the page staying on the relay until its own retry.
 */
import type { ViewerSignal } from '@wingman/protocol';
import { MAX_REMOTE_CANDIDATES } from './candidates';

/** Longest restart delay for which signals are held, ms (the first three restarts in a row: 0.5, 1, 2 s). */
export const HOLD_RESTART_MAX_MS = 2_000;
/** The candidates the host accepts, and room for an offer and end-of-candidates (a re-offer's too). */
export const HOLD_SIGNALS_PER_VIEWER = MAX_REMOTE_CANDIDATES + 16;
export const HOLD_VIEWERS_MAX = 64;

interface Negotiation {
  signals: ViewerSignal[];
  /** Past replaying. */
  answered: boolean;
  overflow: boolean;
}

interface CrashOutcome {
  /** Kept, for the next host as it starts. */
  replay: string[];
  /** To tell that the host is gone. */
  refuse: string[];
}

export class OfferLedger {
  private readonly viewers = new Map<string, Negotiation>();
  /** Down, with a restart due soon enough to hold for. */
  private holding = false;

  /** Recorded while the viewer's offer is unanswered (while holding: kept). False: not kept. */
  note(viewerId: string, m: ViewerSignal): boolean {
    if (m.type === 'bye') {
      this.forget(viewerId);
      return false;
    }
    if (m.type === 'connection-state') return false;
    let n = this.viewers.get(viewerId);
    if (!n) {
      if (m.type !== 'offer' || this.viewers.size >= HOLD_VIEWERS_MAX) return false;
      n = { signals: [], answered: false, overflow: false };
      this.viewers.set(viewerId, n);
    }
    if (n.answered || n.overflow) return false;
    if (n.signals.length >= HOLD_SIGNALS_PER_VIEWER) {
      n.overflow = true;
      n.signals = [];
      return false;
    }
    n.signals.push(m);
    return true;
  }

  /** While the host is down: kept for the next host if a restart is due soon and the viewer fits; false: refuse or drop. */
  hold(viewerId: string, m: ViewerSignal): boolean {
    if (!this.holding) return false;
    if (this.note(viewerId, m)) return true;
    // Not replayable whole, not replayed at all.
    if (this.viewers.get(viewerId)?.overflow) this.forget(viewerId);
    return false;
  }

  answered(viewerId: string): void {
    const n = this.viewers.get(viewerId);
    if (!n) return;
    n.answered = true;
    n.signals = [];
  }

  forget(viewerId: string): void {
    this.viewers.delete(viewerId);
  }

  /** `restartInMs` undefined: never (the agent is closing). */
  crashed(restartInMs: number | undefined): CrashOutcome {
    this.holding = restartInMs !== undefined && restartInMs <= HOLD_RESTART_MAX_MS;
    const replay: string[] = [];
    const refuse: string[] = [];
    for (const [viewerId, n] of this.viewers) {
      if (this.holding && !n.answered && !n.overflow && n.signals.length > 0) replay.push(viewerId);
      else {
        refuse.push(viewerId);
        this.viewers.delete(viewerId);
      }
    }
    return { replay, refuse };
  }

  /** In the order they came, viewer by viewer. */
  started(): Array<{ viewerId: string; message: ViewerSignal }> {
    this.holding = false;
    const out: Array<{ viewerId: string; message: ViewerSignal }> = [];
    for (const [viewerId, n] of this.viewers) for (const message of n.signals) out.push({ viewerId, message });
    return out;
  }

  /** For tests and diagnostics. */
  size(): number {
    return this.viewers.size;
  }
}
