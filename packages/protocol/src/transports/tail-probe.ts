/**
 * Tail-loss probes: after TAIL_PROBE_IDLE_MS without a send, TAIL_PROBE_COUNT tiny messages the peer
 * ignores, so SCTP repairs a loss at a burst's end by fast retransmit (three gap reports) rather than
 * its retransmission timer (≥ 400 ms). A probe is a PONG frame with an all-zero payload, which answers
 * no PING, so no peer needs to know of probes. Why these figures: docs/PROTOCOL.md §Tail-loss probes.
 */
import { PING_PAYLOAD_BYTES } from '../constants';
import { FrameType, encodeFrame } from '../frame';

/** Probes after each burst: five leave three gap reports when one probe or its report is lost too. */
export const TAIL_PROBE_COUNT = 5;

/** Quiet time that ends a burst, ms: far below any retransmission timeout, above the gaps within a page load's burst (10 ms probed all through it). */
export const TAIL_PROBE_IDLE_MS = 30;

/** One probe message: a PONG frame with an all-zero payload. */
export function tailProbeMessage(): ArrayBuffer {
  return encodeFrame(FrameType.PONG, 0, 0, new Uint8Array(PING_PAYLOAD_BYTES)).buffer as ArrayBuffer;
}

interface TailProbeOptions {
  /** The caller checks the channel is open. */
  send: (probe: ArrayBuffer) => void;
  idleMs?: number;
  count?: number;
}

/** Call `sent()` after each real send (probes are none, so a quiet channel stays quiet), `stop()` when the channel closes. */
export class TailProber {
  private readonly idleMs: number;
  private readonly count: number;
  private readonly probe = tailProbeMessage();
  private lastSend = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private left = 0;
  private stopped = false;
  probes = 0;

  constructor(private readonly options: TailProbeOptions) {
    this.idleMs = options.idleMs ?? TAIL_PROBE_IDLE_MS;
    this.count = options.count ?? TAIL_PROBE_COUNT;
  }

  sent(): void {
    if (this.stopped) return;
    this.lastSend = Date.now();
    // A burst that resumes during the probes ends with probes of its own.
    this.left = this.count;
    if (this.timer === undefined) this.timer = setTimeout(this.tick, this.idleMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped || this.left === 0) return;
    const quiet = Date.now() - this.lastSend;
    if (quiet < this.idleMs) {
      this.timer = setTimeout(this.tick, this.idleMs - quiet);
      return;
    }
    this.left--;
    this.probes++;
    this.options.send(this.probe);
    // The next probe on a later tick, so it leaves in a packet of its own.
    if (this.left > 0) this.timer = setTimeout(this.tick, 1);
  };
}
