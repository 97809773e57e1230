/**
 * The loss probe: right after a viewer's channel opens, it measures how
 * many packets the peer path loses, before the page's first wave of
 * requests has shown it. docs/PROTOCOL.md §Loss probe.
 *
 * Why: SCTP halves its congestion window on each loss and repairs by round
 * trips, so on a lossy link (2 % each way in the lab) a page load's
 * hundreds of responses over the data channel take far longer than over the
 * relay's TCP. The Service Worker routes bursts around a channel that
 * stalls, but its verdict comes from lone requests, which a first visit has
 * not made yet when its module wave leaves.
 *
 * How: every peer connection carries one more data channel, negotiated
 * out of band (LOSS_PROBE_INIT: the same id at both ends, no DCEP),
 * unordered and never retransmitted, so a packet lost on it stays lost.
 * The viewer sends LOSS_PROBE_COUNT numbered messages of LOSS_PROBE_BYTES
 * (too large for two to share a packet), at most LOSS_PROBE_WINDOW
 * unanswered at once; the agent sends each back as it came. A probe counts
 * as lost once LOSS_PROBE_GAP later probes came back without it (the path
 * does not reorder in practice), or when the probe ends without it. Each
 * lost probe is a packet lost one way or the other.
 *
 * An agent without the channel answers nothing: no echo at all is no
 * verdict, never a lossy one.
 */
import type { DataChannelLike } from './data-channel';

/** The probe channel's label at both ends. */
export const LOSS_PROBE_LABEL = 'wingman-loss';

/**
 * The probe channel's SCTP stream id: above the app's channel, whose id the
 * browser picks from 0, and below the 256 streams Firefox's SCTP association
 * starts with (it adds streams only by asking the peer to).
 */
const LOSS_PROBE_CHANNEL_ID = 64;

/** How both ends create the probe channel (RTCDataChannelInit). */
export const LOSS_PROBE_INIT = { negotiated: true, id: LOSS_PROBE_CHANNEL_ID, ordered: false, maxRetransmits: 0 } as const;

/**
 * Probes per measurement. At 2 % loss each way a round trip loses
 * 1 − 0.98² ≈ 4 %; over 128 the chance of fewer than LOSS_PROBE_LOSSY_MIN
 * losses is about 3.5 %. On a path without loss, none is lost.
 */
export const LOSS_PROBE_COUNT = 128;

/** Bytes per probe: one packet each (two do not fit in one SCTP packet of WebRTC's ~1200 bytes). */
export const LOSS_PROBE_BYTES = 1000;

/**
 * Probes in flight at most: the probe shares the association's congestion
 * window with the page's first requests, so it must not fill it.
 */
export const LOSS_PROBE_WINDOW = 16;

/** Later probes back that mark an unanswered one lost. */
export const LOSS_PROBE_GAP = 3;

/** Lost probes that make the path lossy. */
export const LOSS_PROBE_LOSSY_MIN = 2;

/**
 * Probes back with none lost that call the path clean for now
 * (LossProbeOptions.onEarlyClean), before the measurement ends: a page's
 * wave held off the channel while its probe is pending may take the channel
 * from then on. At 2 % loss each way (4 % a round trip) 32 come back with
 * none lost about one time in four; the measurement goes on, and a lossy
 * verdict after it still counts.
 */
export const LOSS_PROBE_EARLY_CLEAN = 32;

/** The measurement ends at the latest this long after it started, ms. */
const LOSS_PROBE_DEADLINE_MS = 4000;

/** With every probe sent, how long to wait for the last answers, ms. */
const LOSS_PROBE_SETTLE_MS = 500;

export interface LossProbeResult {
  /** Probes sent. */
  sent: number;
  /** Probes that came back. */
  echoed: number;
  /** Probes counted lost. */
  lost: number;
  /** `lost` ≥ LOSS_PROBE_LOSSY_MIN, with at least one answer (an agent that answers none has no probe channel). */
  lossy: boolean;
  /** Start → end of the measurement, ms. */
  ms: number;
}

/**
 * The count of one measurement, without I/O: which probes went and which
 * came back. Pure, so the rules are tested alone.
 */
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

  /** The number of the next probe, counted as sent. */
  next(): number {
    this.back.push(false);
    return this.sent++;
  }

  /** Probes neither back nor counted lost. */
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

  /** Probes lost so far: by the gap rule, or every one not back once `ended`. */
  lost(ended = false): number {
    return ended ? this.sent - this.echoed : this.gapLost;
  }

  /** Whether the losses so far make the path lossy. */
  lossy(ended = false): boolean {
    return this.echoed > 0 && this.lost(ended) >= LOSS_PROBE_LOSSY_MIN;
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
  /** Called once, as soon as the losses make the path lossy (before the measurement ends). */
  onLossy?: (r: LossProbeResult) => void;
  /** Called once, when LOSS_PROBE_EARLY_CLEAN probes came back with none lost and no lossy verdict came before. */
  onEarlyClean?: (r: LossProbeResult) => void;
  /** Probes to send (tests); LOSS_PROBE_COUNT. */
  count?: number;
  now?: () => number;
}

/**
 * Runs one measurement on the viewer's probe channel (created with
 * LOSS_PROBE_INIT, binaryType 'arraybuffer'), once it is open. Resolves
 * when every probe is decided, LOSS_PROBE_SETTLE_MS after the last was
 * sent, at LOSS_PROBE_DEADLINE_MS, or when the channel closes; never
 * rejects.
 */
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
    const result = (ended: boolean): LossProbeResult => ({
      sent: tally.sent,
      echoed: tally.echoed,
      lost: tally.lost(ended),
      lossy: tally.lossy(ended),
      ms: Math.round(now() - started),
    });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(settle);
      const r = result(true);
      if (r.lossy && !told) options.onLossy?.(r);
      resolve(r);
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
        options.onLossy?.(result(false));
      } else if (!told && !toldClean && tally.echoed >= LOSS_PROBE_EARLY_CLEAN && tally.lost() === 0) {
        toldClean = true;
        options.onEarlyClean?.(result(false));
      }
      pump();
    });
    dc.addEventListener('close', finish);
    if (dc.readyState === 'open') pump();
    else dc.addEventListener('open', pump);
  });
}

/**
 * The agent's end: sends back every probe message as it came, at most
 * LOSS_PROBE_COUNT per channel (what one measurement sends); anything
 * else, or more, is dropped. Per peer connection, so bounded per viewer.
 */
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
