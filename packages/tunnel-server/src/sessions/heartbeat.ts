/**
 * Liveness of an agent: a protocol PING every interval; a PONG that does not
 * come back in time means the agent (or the path to it) is dead, even when
 * TCP has not noticed yet (a laptop that went to sleep, a dropped NAT binding).
 */
import type { Connection, ProtocolError } from '@wingman/protocol';

export interface HeartbeatOptions {
  /** Time between PINGs, ms. */
  intervalMs: number;
  /** Time to wait for each PONG, ms. */
  timeoutMs: number;
  /** Called once when a PONG is missed while the connection is open. */
  onDead: (error: ProtocolError) => void;
}

/** Starts pinging; returns a function that stops it. */
export function startHeartbeat(connection: Connection, options: HeartbeatOptions): () => void {
  let inFlight = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (inFlight || stopped) return;
    inFlight = true;
    connection.ping(options.timeoutMs).then(
      () => {
        inFlight = false;
      },
      (error: ProtocolError) => {
        inFlight = false;
        // A ping also fails when the connection closes; only a live one is dead.
        if (stopped || connection.isClosed) return;
        stopped = true;
        clearInterval(timer);
        options.onDead(error);
      },
    );
  }, options.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
