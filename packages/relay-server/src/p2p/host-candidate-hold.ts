/**
 * The order in which a viewer gets the P2P host's candidates, once a host
 * candidate has a predicted public one (predicted-candidate.ts): the
 * prediction at once, the host candidate HOST_AFTER_PREDICTION_MS later.
 *
 * Why: the browser checks its pairs one per pacing tick (~50 ms in
 * Chromium), highest priority first, and a host pair outranks every other.
 * To a viewer elsewhere the agent's LAN address is a pair that cannot
 * work, checked first; the prediction, which can, waited a tick behind it
 * (lab, far-server set-up race: ICE at 265 ms from the hello with the host
 * candidate sent first, 206 ms with it held back, 205 ms with the agent's
 * offer made ahead; docs/lab-log.md §Set-up race). A viewer on the same LAN needs
 * the host candidate: it is still sent, with its own priority (so its pair
 * wins once it works), and at once when the viewer shows it is behind the
 * same public address as the agent (`release`).
 */
import type { CandidateInit } from './predicted-candidate';

/** How long a host candidate waits behind its prediction, ms: two of Chromium's ICE pacing ticks. */
export const HOST_AFTER_PREDICTION_MS = 100;

export class HostCandidateHold {
  private held: CandidateInit[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private released = false;

  constructor(
    private readonly send: (c: CandidateInit) => void,
    private readonly delayMs = HOST_AFTER_PREDICTION_MS,
  ) {}

  /** Holds a host candidate whose prediction went out; it leaves after the delay, or at `release`. */
  hold(c: CandidateInit): void {
    if (this.released) return this.send(c);
    this.held.push(c);
    this.timer ??= setTimeout(() => this.release(), this.delayMs);
  }

  /** Sends what is held now, and from now on every host candidate at once (the viewer may be on this LAN). */
  release(): void {
    this.released = true;
    this.stop();
    for (const c of this.held.splice(0)) this.send(c);
  }

  /** Drops what is held (the peer connection closed). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.released) this.held = [];
  }
}
