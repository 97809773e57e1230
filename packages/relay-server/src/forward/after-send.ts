/**
 * Work that must not delay a response (the request log line, the capture):
 * run where the frames are queued, it would come before their send. One
 * setImmediate per turn for all that is queued, in order. And the request
 * log line itself, written once per exchange.
 */
import type { ForwardContext } from './context';
import type { TransportName } from './headers';

const queue: Array<() => void> = [];
let scheduled = false;

function runQueued(): void {
  scheduled = false;
  // Calls queued while running go to the next turn, so one turn stays bounded.
  for (const fn of queue.splice(0)) {
    try {
      fn();
    } catch (err) {
      // A logging or inspector bug must not break other requests; say so on stderr.
      process.emitWarning(`wingman forwarder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
}

/** Runs `fn` after what the current turn sends has been handed to the transport. */
export function afterSend(fn: () => void): void {
  queue.push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runQueued);
}

/** Logs the exchange the first time it is called; later calls do nothing. */
export function logOnce(
  ctx: ForwardContext,
  exchange: { method: string; target: string; transport: TransportName; started: number },
): (status: number, error?: string) => void {
  let logged = false;
  return (status, error) => {
    if (logged) return;
    logged = true;
    const { method, target, transport, started } = exchange;
    ctx.onRequest({ method, target, status, ms: Math.round(performance.now() - started), transport, ...(error ? { error } : {}) });
  };
}
