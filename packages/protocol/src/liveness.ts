/**
 * The liveness rule for a channel monitored with PINGs: a PING that times out
 * counts as missed only if the channel also made no progress since the last
 * verdict — no byte received from the peer and no byte of ours drained from
 * the transport's send buffer. On a lossy but working path, a PING (or the
 * peer's PONG) queues behind megabytes of a bulk transfer and can take longer
 * than the PING timeout, while the transfer itself keeps moving; such a
 * channel is alive. A channel that is really gone moves nothing, and is
 * declared dead after `maxMissed` such PINGs in a row.
 */

/** What the rule reads from the channel: the Connection's byte counters and the transport's send buffer. */
export interface LivenessSource {
  /** Bytes received from the peer so far (Connection.bytesReceived). */
  readonly bytesReceived: number;
  /** Bytes handed to the transport so far (Connection.bytesSent). */
  readonly bytesSent: number;
  /** Bytes still waiting in the transport's send buffer (RTCDataChannel.bufferedAmount). */
  bufferedAmount(): number;
}

export class ChannelLiveness {
  private missed = 0;
  private lastProgress: number;

  constructor(
    private readonly source: LivenessSource,
    private readonly maxMissed: number,
  ) {
    this.lastProgress = this.progress();
  }

  /** Missed PINGs in a row (each without progress). */
  get missedPings(): number {
    return this.missed;
  }

  /** A PONG came back: the peer is alive. */
  answered(): void {
    this.missed = 0;
    this.lastProgress = this.progress();
  }

  /** A PING timed out. Returns true when the channel is to be declared dead. */
  timedOut(): boolean {
    const now = this.progress();
    if (now !== this.lastProgress) {
      this.lastProgress = now;
      this.missed = 0;
      return false;
    }
    return ++this.missed >= this.maxMissed;
  }

  /** Bytes received plus bytes that left our send buffer: grows whenever the channel moves data either way. */
  private progress(): number {
    const buffered = Math.max(0, this.source.bufferedAmount());
    return this.source.bytesReceived + Math.max(0, this.source.bytesSent - buffered);
  }
}
