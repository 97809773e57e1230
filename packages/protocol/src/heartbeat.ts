/**
 * The one heartbeat of Wingman (server, agent, P2P host and page each run one): a PING at a time every
 * `intervalMs`, judged by liveness.ts when it times out. A closed connection ends the loop quietly.
 */
import { protocolError, type ProtocolError } from './errors';
import { ChannelLiveness } from './liveness';

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
  const liveness = new ChannelLiveness(
    {
      get bytesReceived() {
        return connection.bytesReceived;
      },
      get bytesSent() {
        return connection.bytesSent;
      },
      bufferedAmount: options.bufferedAmount,
    },
    maxMissed,
  );
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
    const startedAt = now();
    connection.ping(timeoutMs).then(
      (rttMs) => {
        if (stopped) return;
        liveness.answered();
        schedule(startedAt + intervalMs - now());
        options.onRtt?.(rttMs);
      },
      () => {
        // A PING also fails when the connection closes: only a live one can be dead.
        if (stopped || connection.isClosed) return;
        if (!liveness.timedOut()) return schedule(startedAt + intervalMs - now());
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

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
