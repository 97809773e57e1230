/**
 * The one heartbeat of Wingman: a PING every `intervalMs` over a Connection,
 * each waited `timeoutMs`, and the liveness rule (liveness.ts) to judge the
 * ones that time out: the channel is dead after `maxMissed` timed-out PINGs
 * in a row with nothing moving on it. The tunnel server (per agent), the
 * agent (its control connection), the P2P host (per viewer) and the page
 * (its P2P channel) each run one, with their own numbers. Isomorphic: only
 * setTimeout. One PING at a time; a closed connection ends the loop quietly
 * (its owner handles the close).
 */
import { protocolError, type ProtocolError } from './errors';
import { ChannelLiveness } from './liveness';

/** What the heartbeat reads and calls: a Connection. */
export interface HeartbeatTarget {
  ping(timeoutMs: number): Promise<number>;
  readonly isClosed: boolean;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** The part of an AbortSignal the heartbeat uses (the protocol compiles without DOM or Node types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
}

export interface HeartbeatOptions {
  /** From one PING to the next, ms. */
  intervalMs: number;
  /** Wait for each PONG, ms. */
  timeoutMs: number;
  /** Timed-out PINGs in a row, each with no progress on the channel, after which it is dead (≥ 1). */
  maxMissed: number;
  /** Bytes waiting in the transport's send buffer: the exact value (ws.bufferedAmount, RTCDataChannel.bufferedAmount). */
  bufferedAmount(): number;
  /** Sends the first PING at once (a round trip to show right away) rather than after one interval. */
  immediate?: boolean;
  /** Stops the heartbeat, as the returned function does. */
  signal?: AbortSignalLike;
  /** A PONG came back after `rttMs`. */
  onRtt?(rttMs: number): void;
  /** Called once when the channel is declared dead (never after it closed or the heartbeat stopped); the heartbeat has stopped. */
  onDead(error: ProtocolError): void;
}

/** Starts the heartbeat; returns a function that stops it. */
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
