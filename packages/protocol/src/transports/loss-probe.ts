/**
 * The loss probe: numbered probes on an unordered, never-retransmitted channel right after a viewer's
 * channel opens, echoed by the agent; a probe not back once LOSS_PROBE_GAP later ones are counts as a
 * lost packet. One still unanswered when the measurement ends is late, not lost: a busy agent or page
 * delays answers without losing any. It finds a lossy path before a first visit's module wave meets
 * SCTP's loss recovery.
 * An agent without the channel answers nothing: no echo is no verdict. docs/PROTOCOL.md §Loss probe.
 */
import type { DataChannelLike } from './data-channel';

export const LOSS_PROBE_LABEL = 'wingman-loss';

/** Above the app's channel (its id picked from 0), below the 256 streams Firefox's association starts with. */
const LOSS_PROBE_CHANNEL_ID = 64;

/** RTCDataChannelInit of the probe channel at both ends: negotiated out of band, so no DCEP. */
export const LOSS_PROBE_INIT = { negotiated: true, id: LOSS_PROBE_CHANNEL_ID, ordered: false, maxRetransmits: 0 } as const;

/** At 2 % loss each way (4 % a round trip), the ~125 the gap rule can decide show fewer than LOSS_PROBE_LOSSY_MIN losses about 4 % of the time. */
export const LOSS_PROBE_COUNT = 128;

/** One packet each: two do not fit in an SCTP packet of WebRTC's ~1200 bytes. */
export const LOSS_PROBE_BYTES = 1000;

/** In flight at most: the probe shares the congestion window with the page's first requests. */
export const LOSS_PROBE_WINDOW = 16;

export const LOSS_PROBE_GAP = 3;

export const LOSS_PROBE_LOSSY_MIN = 2;

/** Probes back with none lost that call the path clean for now (onEarlyClean); a lossy verdict after it still counts, but
 * the module wave it let onto the channel stays there. At 2 % loss each way 96 come back clean about one time in fifty. */
export const LOSS_PROBE_EARLY_CLEAN = 96;

const LOSS_PROBE_DEADLINE_MS = 4000;
/** With every probe sent, how long to wait for the last answers, ms. */
const LOSS_PROBE_SETTLE_MS = 500;

export interface LossProbeResult {
  sent: number;
  echoed: number;
  /** By the gap rule; `sent - echoed - lost` were still unanswered at the end (late, or past the last answers). */
  lost: number;
  /** `lost` ≥ LOSS_PROBE_LOSSY_MIN. An agent without the probe channel answers none, so the gap rule finds no loss. */
  lossy: boolean;
  ms: number;
}

/** The count of one measurement, without I/O, so the rules are tested alone. */
export class LossTally {
  private readonly back: boolean[] = [];
  private highest = -1;
  private gapLost = 0;
  /** The lowest probe not yet decided (back, or lost by the gap rule). */
  private floor = 0;
  sent = 0;
  echoed = 0;

  /** Whether another probe may leave: fewer than `limit` sent, fewer than `window` in flight. */
  canSend(limit = LOSS_PROBE_COUNT, window = LOSS_PROBE_WINDOW): boolean {
    return this.sent < limit && this.inFlight() < window;
  }

  next(): number {
    this.back.push(false);
    return this.sent++;
  }

  inFlight(): number {
    return this.sent - this.echoed - this.gapLost;
  }

  /** An answer for probe `seq`; false when it is no probe of this tally or came twice. */
  echo(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.sent || this.back[seq]) return false;
    if (seq < this.floor) {
      // Counted lost by the gap rule and back after all: reordered, not lost.
      this.gapLost--;
    }
    this.back[seq] = true;
    this.echoed++;
    if (seq > this.highest) this.highest = seq;
    this.advance();
    return true;
  }

  private advance(): void {
    while (this.floor < this.sent && (this.back[this.floor] || this.floor + LOSS_PROBE_GAP <= this.highest)) {
      if (!this.back[this.floor]) this.gapLost++;
      this.floor++;
    }
  }

  /**
   * Probes lost: by the gap rule only. One without LOSS_PROBE_GAP answers after it is undecided, at the end too: an
   * agent whose thread stalls half a second (a busy laptop) answers late, and late is no loss of the path.
   */
  lost(): number {
    return this.gapLost;
  }

  lossy(): boolean {
    return this.gapLost >= LOSS_PROBE_LOSSY_MIN;
  }
}

/** A probe message: its number in the first two bytes (big-endian), zeros after. */
export function lossProbeMessage(seq: number): ArrayBuffer {
  const bytes = new Uint8Array(LOSS_PROBE_BYTES);
  bytes[0] = (seq >> 8) & 0xff;
  bytes[1] = seq & 0xff;
  return bytes.buffer;
}

/** The number in a probe message, or undefined for anything else. */
export function lossProbeSeq(data: unknown): number | undefined {
  if (!(data instanceof ArrayBuffer) || data.byteLength !== LOSS_PROBE_BYTES) return undefined;
  const bytes = new Uint8Array(data, 0, 2);
  return (bytes[0]! << 8) | bytes[1]!;
}

export interface LossProbeOptions {
  /** Once, as soon as the losses make the path lossy (before the measurement ends). */
  onLossy?: (r: LossProbeResult) => void;
  /** Once, when LOSS_PROBE_EARLY_CLEAN probes came back with none lost and no lossy verdict came before. */
  onEarlyClean?: (r: LossProbeResult) => void;
  count?: number;
  now?: () => number;
}

/** Runs one measurement on the viewer's probe channel (binaryType 'arraybuffer'); never rejects. */
export function runLossProbe(dc: DataChannelLike, options: LossProbeOptions = {}): Promise<LossProbeResult> {
  const now = options.now ?? (() => Date.now());
  const count = Math.min(options.count ?? LOSS_PROBE_COUNT, 0xffff);
  const tally = new LossTally();
  const started = now();
  return new Promise((resolve) => {
    let done = false;
    let told = false;
    let toldClean = false;
    let settle: ReturnType<typeof setTimeout> | undefined;
    const result = (): LossProbeResult => ({
      sent: tally.sent,
      echoed: tally.echoed,
      lost: tally.lost(),
      lossy: tally.lossy(),
      ms: Math.round(now() - started),
    });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(settle);
      // Losses grow only with an answer, which calls onLossy at once: none is left to tell here.
      resolve(result());
    };
    const deadline = setTimeout(finish, LOSS_PROBE_DEADLINE_MS);
    const pump = () => {
      while (!done && dc.readyState === 'open' && tally.canSend(count)) {
        try {
          dc.send(lossProbeMessage(tally.next()));
        } catch {
          return finish();
        }
      }
      if (tally.sent >= count && tally.inFlight() === 0) return finish();
      if (tally.sent >= count && settle === undefined) settle = setTimeout(finish, LOSS_PROBE_SETTLE_MS);
    };
    dc.addEventListener('message', (ev) => {
      if (done || !tally.echo(lossProbeSeq(ev.data) ?? -1)) return;
      if (!told && tally.lossy()) {
        told = true;
        options.onLossy?.(result());
      } else if (!told && !toldClean && tally.echoed >= LOSS_PROBE_EARLY_CLEAN && tally.lost() === 0) {
        toldClean = true;
        options.onEarlyClean?.(result());
      }
      pump();
    });
    dc.addEventListener('close', finish);
    if (dc.readyState === 'open') pump();
    else dc.addEventListener('open', pump);
  });
}

/** The agent's end: echoes at most LOSS_PROBE_COUNT probe messages per channel (one measurement); drops the rest. */
export function echoLossProbes(dc: DataChannelLike, limit = LOSS_PROBE_COUNT): void {
  let answered = 0;
  dc.addEventListener('message', (ev) => {
    if (answered >= limit || dc.readyState !== 'open' || lossProbeSeq(ev.data) === undefined) return;
    answered++;
    try {
      dc.send(ev.data as ArrayBuffer);
    } catch {
      /* the channel is closing: the viewer counts the probe lost */
    }
  });
}
