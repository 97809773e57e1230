/**
 * The request log line of one exchange (the CLI's log, the inspector's list):
 * written once, with the exchange's status and time since it started.
 */
import type { ForwardContext } from './context';
import type { TransportName } from './headers';

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
