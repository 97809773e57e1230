/**
 * The one heartbeat of Wingman (server, agent, P2P host and page each run one): a PING at a time every
 * `intervalMs`, judged by the liveness rule below when it times out. A closed connection ends the loop quietly.
 */
import { FRAME_HEADER_BYTES, PING_PAYLOAD_BYTES } from './constants';
import { protocolError, type ProtocolError } from './errors';

export interface HeartbeatTarget {
  ping(timeoutMs: number): Promise<number>;
  readonly isClosed: boolean;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** The protocol compiles without DOM or Node types. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
}

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Timed-out PINGs in a row, each with no progress on the channel, after which it is dead (≥ 1). */
  maxMissed: number;
  /** The transport's exact value (ws.bufferedAmount, RTCDataChannel.bufferedAmount). */
  bufferedAmount(): number;
  /** The first PING at once rather than after one interval. */
  immediate?: boolean;
  signal?: AbortSignalLike;
  onRtt?(rttMs: number): void;
  /** Once, never after a close or a stop; the heartbeat has stopped. */
  onDead(error: ProtocolError): void;
}

/** Returns a function that stops it. */
export function startHeartbeat(connection: HeartbeatTarget, options: HeartbeatOptions): () => void {
  const { intervalMs, timeoutMs, maxMissed } = options;
  if (!(intervalMs > 0 && timeoutMs > 0 && Number.isInteger(maxMissed) && maxMissed >= 1)) {
    throw new RangeError(`heartbeat needs intervalMs > 0, timeoutMs > 0 and an integer maxMissed ≥ 1 (got ${intervalMs}, ${timeoutMs}, ${maxMissed})`);
  }
  const liveness = new ChannelLiveness(connection, options.bufferedAmount, maxMissed);
  let stopped = false;
  let timer: unknown;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(round, Math.max(0, delayMs));
    // Node: a heartbeat alone does not keep the process alive.
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };

  function round(): void {
    if (stopped || connection.isClosed) return;
    const startedAt = performance.now();
    connection.ping(timeoutMs).then(
      (rttMs) => {
        if (stopped) return;
        liveness.answered();
        schedule(startedAt + intervalMs - performance.now());
        options.onRtt?.(rttMs);
      },
      () => {
        // A PING also fails when the connection closes: only a live one can be dead.
        if (stopped || connection.isClosed) return;
        if (!liveness.timedOut()) return schedule(startedAt + intervalMs - performance.now());
        stop();
        options.onDead(protocolError('ERR_TIMEOUT', `${maxMissed} PING(s) in a row unanswered within ${timeoutMs} ms, with nothing moving on the channel`));
      },
    );
  }

  if (options.signal?.aborted) return stop;
  options.signal?.addEventListener('abort', stop);
  if (options.immediate) round();
  else schedule(intervalMs);
  return stop;
}

/**
 * The liveness rule: a PING that times out is missed only if nothing moved since the last verdict (no byte
 * received, at most LIVENESS_MIN_DRAIN_BYTES of ours drained), as a PING queued behind a bulk transfer
 * on a lossy path may time out while the channel is alive. Dead after `maxMissed` in a row.
 */

/** Our own PINGs and small control frames, which the kernel's buffer takes whether or not the peer is there. */
const LIVENESS_MIN_DRAIN_BYTES = 64 * (FRAME_HEADER_BYTES + PING_PAYLOAD_BYTES);

interface Snapshot {
  received: number;
  /** Bytes that left our send buffer. */
  drained: number;
}

export class ChannelLiveness {
  private missed = 0;
  private last: Snapshot;

  /** `counters`: the Connection's; `bufferedAmount`: the transport's send buffer. */
  constructor(
    private readonly counters: Pick<HeartbeatTarget, 'bytesReceived' | 'bytesSent'>,
    private readonly bufferedAmount: () => number,
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
    const buffered = Math.max(0, this.bufferedAmount());
    return { received: this.counters.bytesReceived, drained: Math.max(0, this.counters.bytesSent - buffered) };
  }
}
