/**
 * Tail-loss probes on a peer connection's data channel: once an end has sent
 * something and then nothing more for TAIL_PROBE_IDLE_MS, it sends
 * TAIL_PROBE_COUNT small messages the peer ignores, one per timer tick.
 *
 * Why: SCTP repairs a lost packet fast only when packets after it arrive —
 * each makes the receiver report the gap at once, and the third report makes
 * the sender retransmit (fast retransmit, RFC 9260 §7.2.4), about one round
 * trip after the loss. A loss among the last packets of a burst has no three
 * packets after it, so it waits for the retransmission timer instead
 * (≥ 400 ms in the SCTP stacks in use, doubling on each repeat). Wingman's
 * traffic is mostly such bursts: a request, a small response, a wave of
 * modules, each ending in a tail. TCP answers the same problem with its tail
 * loss probe (RFC 8985 §7); SCTP stacks do not, and neither a page nor
 * @roamhq/wrtc can tune theirs, so the probes are sent from above.
 *
 * A probe is one message of PONG frames whose payload answers no PING (all
 * zeros: the PING tracker's counter starts at 1), which every Wingman end
 * already ignores, so no peer needs to know of probes. Each probe leaves on a
 * timer tick of its own, so in a packet of its own while the congestion
 * window has room; they are kept tiny (one frame) because SCTP counts the
 * window in bytes and larger probes take room the next request needs after
 * a loss (measured: 640-byte probes, 9 of 50 lone requests over a lossy link
 * at two round trips, against 5 of 50 with one frame; one batch each).
 * docs/PROTOCOL.md §Tail-loss probes.
 */
import { PING_PAYLOAD_BYTES } from '../constants';
import { FrameType, encodeFrame } from '../frame';

/**
 * Probes after each burst: three gap reports make the sender retransmit, and
 * five leave three when one probe or its report is lost too. Measured over
 * 2 % loss (lab, lossy-mobile, 50 lone requests per run): with three, one
 * run of three in each of three batches still had a request at the
 * retransmission timer (p99 ~480 ms); with five, p99 204–223 ms in all three.
 */
export const TAIL_PROBE_COUNT = 5;

/**
 * Quiet time after the last send that ends a burst, ms. Far below any
 * retransmission timeout, and long enough that the gaps between a burst's
 * own sends (frames of one response, responses of one page load arriving
 * from the app ms apart) mostly do not count as ends. With 10 ms the lab's
 * far-server reloads took 1.04× / 1.09× relay-only against 0.93× / 1.03×
 * without probes (probes all through the module wave); with 30 ms 1.02× /
 * 0.97×, and lossy-mobile's lone-request p99 234 ms instead of 145
 * (relay-only ~520). docs/lab-log.md §Lossy link.
 */
export const TAIL_PROBE_IDLE_MS = 30;

/** One probe message: a PONG frame with an all-zero payload. */
export function tailProbeMessage(): ArrayBuffer {
  return encodeFrame(FrameType.PONG, 0, 0, new Uint8Array(PING_PAYLOAD_BYTES)).buffer as ArrayBuffer;
}

interface TailProbeOptions {
  /** Sends one probe message (the caller checks the channel is open). */
  send: (probe: ArrayBuffer) => void;
  idleMs?: number;
  count?: number;
}

/**
 * Watches an end's sends: call `sent()` after each real send, `stop()` when
 * the channel closes. Probes themselves do not count as sends, so a quiet
 * channel stays quiet after its probes.
 */
export class TailProber {
  private readonly idleMs: number;
  private readonly count: number;
  private readonly probe = tailProbeMessage();
  private lastSend = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private left = 0;
  private stopped = false;
  /** Probe messages sent so far. */
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
