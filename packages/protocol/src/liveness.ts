/**
 * The liveness rule: a PING that times out is missed only if nothing moved since the last verdict (no byte
 * received, at most LIVENESS_MIN_DRAIN_BYTES of ours drained), as a PING queued behind a bulk transfer
 * on a lossy path may time out while the channel is alive. Dead after `maxMissed` in a row.
 */
import { FRAME_HEADER_BYTES, PING_PAYLOAD_BYTES } from './constants';

/** Our own PINGs and small control frames, which the kernel's buffer takes whether or not the peer is there. */
const LIVENESS_MIN_DRAIN_BYTES = 64 * (FRAME_HEADER_BYTES + PING_PAYLOAD_BYTES);

/** The Connection's byte counters and the transport's send buffer. */
interface LivenessSource {
  readonly bytesReceived: number;
  readonly bytesSent: number;
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

  get missedPings(): number {
    return this.missed;
  }

  answered(): void {
    this.missed = 0;
    this.last = this.snapshot();
  }

  /** True when the channel is to be declared dead. */
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
