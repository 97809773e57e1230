/**
 * A host candidate whose predicted public twin went out follows it HOST_AFTER_PREDICTION_MS later: a browser checks
 * one pair per pacing tick, highest priority first, and a host pair, which cannot work for a viewer elsewhere, would
 * take the first tick. A viewer shown to be behind the agent's own public address (its LAN) gets them at once.
 */
import type { IceCandidateInit } from '@wingman/protocol';

/** How long a host candidate waits behind its prediction, ms: two of Chromium's ICE pacing ticks. */
export const HOST_AFTER_PREDICTION_MS = 100;

export class HostCandidateHold {
  private held: IceCandidateInit[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private released = false;

  constructor(
    private readonly send: (c: IceCandidateInit) => void,
    private readonly delayMs = HOST_AFTER_PREDICTION_MS,
  ) {}

  /** Holds a host candidate whose prediction went out; it leaves after the delay, or at `release`. */
  hold(c: IceCandidateInit): void {
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
