/**
 * Offers that outlive a P2P host crash. The host process
 * (isolated-peer-host.ts) can die of a native crash in wrtc, most often as a
 * peer is torn down, e.g. when a reviewer's page navigates: the new page's
 * offer then reaches a host that is down. Refused, the page would stay on the
 * relay until its own retry (a second or more) and its requests and
 * WebSockets would not wait for a channel. Instead, while the restart is due
 * within HOLD_RESTART_MAX_MS, the agent holds the viewers' negotiation
 * signals (offer, candidates) and hands them to the new host as it starts;
 * so it does for a viewer whose offer the dead host had not answered yet.
 * A viewer the dead host had answered but not connected is told at once
 * (ERR_P2P_UNAVAILABLE), so it offers again instead of waiting for ICE to
 * time out. Everything is bounded: HOLD_SIGNALS_PER_VIEWER signals a viewer,
 * HOLD_VIEWERS_MAX viewers; a viewer beyond them is refused as before.
 */
import type { ViewerSignal } from '@wingman/protocol';
import { MAX_REMOTE_CANDIDATES } from './candidates';

/** Longest restart delay for which signals are held rather than refused, ms (the first three restarts in a row: 0.5, 1 and 2 s). */
export const HOLD_RESTART_MAX_MS = 2_000;
/** Negotiation signals kept per viewer: the candidates the host accepts, and room for its offer and end-of-candidates (a re-offer's too). */
export const HOLD_SIGNALS_PER_VIEWER = MAX_REMOTE_CANDIDATES + 16;
/** Viewers whose negotiation is kept at once. */
export const HOLD_VIEWERS_MAX = 64;

interface Negotiation {
  signals: ViewerSignal[];
  /** The host answered an offer of this viewer's: past replaying. */
  answered: boolean;
  /** More signals came than are kept: cannot be replayed. */
  overflow: boolean;
}

/** What to do for each viewer when the host died. */
interface CrashOutcome {
  /** Viewers whose signals are kept and go to the next host as it starts. */
  replay: string[];
  /** Viewers to tell that the host is gone (their attempt cannot go on). */
  refuse: string[];
}

export class OfferLedger {
  private readonly viewers = new Map<string, Negotiation>();
  /** Down, with a restart due soon enough to hold for. */
  private holding = false;

  /** A signal the live host got (or, while holding, one to keep): recorded while the viewer's offer is unanswered. False: not kept. */
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

  /**
   * While the host is down: keeps `m` for the next host if a restart is due
   * soon and the viewer fits. False: the caller refuses the viewer (its offer)
   * or drops the signal.
   */
  hold(viewerId: string, m: ViewerSignal): boolean {
    if (!this.holding) return false;
    if (this.note(viewerId, m)) return true;
    // A viewer that cannot be replayed whole is not replayed at all.
    if (this.viewers.get(viewerId)?.overflow) this.forget(viewerId);
    return false;
  }

  /** The host answered this viewer: nothing of its to replay from now on. */
  answered(viewerId: string): void {
    const n = this.viewers.get(viewerId);
    if (!n) return;
    n.answered = true;
    n.signals = [];
  }

  /** The viewer connected, closed, left or was refused. */
  forget(viewerId: string): void {
    this.viewers.delete(viewerId);
  }

  /** The host died; `restartInMs`: when the next one starts (undefined: never, the agent is closing). */
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

  /** A new host starts: the kept signals to hand it, in the order they came, viewer by viewer. */
  started(): Array<{ viewerId: string; message: ViewerSignal }> {
    this.holding = false;
    const out: Array<{ viewerId: string; message: ViewerSignal }> = [];
    for (const [viewerId, n] of this.viewers) for (const message of n.signals) out.push({ viewerId, message });
    return out;
  }

  /** Viewers with a negotiation kept (for tests and diagnostics). */
  size(): number {
    return this.viewers.size;
  }
}
