/**
 * The liveness rule for a channel monitored with PINGs: a PING that times out
 * counts as missed only if the channel also made no progress since the last
 * verdict — no byte received from the peer, and no more than
 * LIVENESS_MIN_DRAIN_BYTES of ours drained from the transport's send buffer.
 * On a lossy but working path, a PING (or the peer's PONG) queues behind
 * megabytes of a bulk transfer and can take longer than the PING timeout,
 * while the transfer itself keeps moving; such a channel is alive. A channel
 * that is really gone moves nothing, and is declared dead after `maxMissed`
 * such PINGs in a row.
 */
import { FRAME_HEADER_BYTES, PING_PAYLOAD_BYTES } from './constants';

/**
 * Bytes of ours that may leave the send buffer between two verdicts without
 * counting as progress: our own PINGs (FRAME_HEADER_BYTES + PING_PAYLOAD_BYTES
 * each) and the odd small control frame, which the kernel's TCP buffer (or
 * SCTP's) takes in whether or not the peer is there. 1 KiB is 64 PINGs; a
 * transfer that moves at all drains far more in a PING interval.
 */
const LIVENESS_MIN_DRAIN_BYTES = 64 * (FRAME_HEADER_BYTES + PING_PAYLOAD_BYTES);

/** What the rule reads from the channel: the Connection's byte counters and the transport's send buffer. */
interface LivenessSource {
  /** Bytes received from the peer so far (Connection.bytesReceived). */
  readonly bytesReceived: number;
  /** Bytes handed to the transport so far (Connection.bytesSent). */
  readonly bytesSent: number;
  /** Bytes still waiting in the transport's send buffer (RTCDataChannel.bufferedAmount, ws.bufferedAmount). */
  bufferedAmount(): number;
}

interface Snapshot {
  received: number;
  /** Bytes that left our send buffer. */
  drained: number;
}

export class ChannelLiveness {
  private missed = 0;
  private last: Snapshot;

  constructor(
    private readonly source: LivenessSource,
    private readonly maxMissed: number,
  ) {
    this.last = this.snapshot();
  }

  /** Missed PINGs in a row (each without progress). */
  get missedPings(): number {
    return this.missed;
  }

  /** A PONG came back: the peer is alive. */
  answered(): void {
    this.missed = 0;
    this.last = this.snapshot();
  }

  /** A PING timed out. Returns true when the channel is to be declared dead. */
  timedOut(): boolean {
    const now = this.snapshot();
    const moved = now.received !== this.last.received || now.drained - this.last.drained > LIVENESS_MIN_DRAIN_BYTES;
    this.last = now;
    if (moved) {
      this.missed = 0;
      return false;
    }
    return ++this.missed >= this.maxMissed;
  }

  private snapshot(): Snapshot {
    const buffered = Math.max(0, this.source.bufferedAmount());
    return { received: this.source.bytesReceived, drained: Math.max(0, this.source.bytesSent - buffered) };
  }
}
