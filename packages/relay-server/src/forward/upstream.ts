/**
 * The agent's keep-alive connections to the local app: at most UPSTREAM_CONNECTIONS for the requests that come and go. A
 * P2P page load sends its whole module wave at once (no six-per-host limit on the channel): a connection per request
 * opened hundreds on every reload, on the cores the app and the browser share. Requests beyond the limit wait in order;
 * when none in flight has ended for UPSTREAM_STALL_MS (SSE, long polls hold them), the waiting ones get connections of
 * their own (the overflow pool). A request without a body on a reused connection the app closed is sent again
 * (stale-connection.ts).
 */
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import { UPSTREAM_KEEP_ALIVE_IDLE_MS } from './constants';
import { resendOnStaleConnection } from './stale-connection';
import { guardedConnector } from './upstream-socket';
import type { TargetTlsOptions } from './target';

// undici's Pool alone: its index loads every client, fetch and the mocks, ~30 ms more CPU at each process's start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Pool = require('undici/lib/dispatcher/pool') as typeof UndiciPool;

/** 320 requests at once, 10 rounds, CPU of the client / the app's Node server per round: unlimited 123–149 / 59–69 ms,
 * 64 connections 29–51 / 24–33 ms, 16: 19–22 / 9–10 ms; 32 keeps most of that with room for parallel slow requests. */
export const UPSTREAM_CONNECTIONS = 32;

/** Waiting requests go to connections of their own once none in flight has ended for this long, ms. */
const UPSTREAM_STALL_MS = 250;

/** `tls`: for an https target. */
export function createUpstream(origin: string, tls?: TargetTlsOptions) {
  // One request at a time per connection; no client timeouts (the forwarder has its own).
  // guardedConnector: an app that closes after a response must not crash the client (upstream-socket.ts).
  const poolOptions: UndiciPool.Options = {
    pipelining: 1,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_IDLE_MS,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: guardedConnector(tls),
  };
  const shared = new Pool(origin, { ...poolOptions, connections: UPSTREAM_CONNECTIONS });
  const overflow = new Pool(origin, { ...poolOptions, connections: null });
  const waiting: Array<{ options: Dispatcher.DispatchOptions; handler: Dispatcher.DispatchHandler }> = [];
  let inFlight = 0;
  /** None ended for UPSTREAM_STALL_MS while requests wait: the connections are held. */
  let lastEnd = Date.now();
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const ended = () => {
    inFlight--;
    lastEnd = Date.now();
    while (waiting.length > 0 && inFlight < UPSTREAM_CONNECTIONS) {
      const next = waiting.shift()!;
      send(next.options, next.handler);
    }
  };

  /** Each request ends once: end or error. */
  const counted = (handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler => {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      ended();
    };
    return {
      ...handler,
      onResponseEnd(controller, trailers) {
        once();
        handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError(controller, error) {
        once();
        handler.onResponseError?.(controller, error);
      },
    };
  };

  const send = (dispatchOptions: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
    inFlight++;
    shared.dispatch(dispatchOptions, counted(handler));
  };

  const checkStall = () => {
    stallTimer = undefined;
    if (waiting.length === 0) return;
    const quiet = Date.now() - lastEnd;
    if (quiet < UPSTREAM_STALL_MS) {
      stallTimer = setTimeout(checkStall, UPSTREAM_STALL_MS - quiet);
      return;
    }
    // Every shared connection is held by a response that does not end: the waiting requests get their own.
    for (const w of waiting.splice(0)) overflow.dispatch(w.options, w.handler);
  };

  const route = (dispatchOptions: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => {
    if (closed) return overflow.dispatch(dispatchOptions, handler);
    if (inFlight < UPSTREAM_CONNECTIONS) {
      send(dispatchOptions, handler);
      return true;
    }
    waiting.push({ options: dispatchOptions, handler });
    stallTimer ??= setTimeout(checkStall, UPSTREAM_STALL_MS);
    return true;
  };

  return {
    // Unanswered on a reused connection the app closed: again (stale-connection.ts).
    dispatch: (dispatchOptions: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
      route(dispatchOptions, resendOnStaleConnection(dispatchOptions, handler, route)),
    async close() {
      closed = true;
      if (stallTimer !== undefined) clearTimeout(stallTimer);
      for (const w of waiting.splice(0)) overflow.dispatch(w.options, w.handler);
      await Promise.all([shared.close(), overflow.close()]);
    },
  };
}
