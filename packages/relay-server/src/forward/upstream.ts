/**
 * The agent's keep-alive connections to the local app: at most
 * UPSTREAM_CONNECTIONS at once for the requests that come and go, and more
 * only when those are all held by responses that do not end.
 *
 * A page load over P2P sends its whole module wave at once (hundreds of
 * requests: no browser limit of six per host applies to the channel). With
 * one connection per request in flight, every wave opened hundreds of TCP
 * connections to the app and the app's server accepted them — again on the
 * next reload, since idle ones close after UPSTREAM_KEEP_ALIVE_IDLE_MS. On a
 * dev machine the agent, the app and the reviewer's browser share the same
 * cores. Measured with undici and a Node http server, 320 requests at once
 * (constants below).
 *
 * Requests beyond the limit wait here, in order, for one in flight to end.
 * Long-lived responses (Server-Sent Events, long polls, slow downloads) could
 * hold every connection: when requests wait and none has ended for
 * UPSTREAM_STALL_MS, the waiting ones go to connections of their own (the
 * overflow pool, without a limit), as every request did before.
 *
 * A request without a body that the app never answered because it closed a
 * reused connection under it is sent again (stale-connection.ts).
 */
import { Pool, type Dispatcher } from 'undici';
import { UPSTREAM_KEEP_ALIVE_IDLE_MS } from './constants';
import { resendOnStaleConnection } from './stale-connection';
import { guardedConnector } from './upstream-socket';
import type { TargetTlsOptions } from './target';

/**
 * Connections to the app for ordinary requests. 320 requests at once, 10
 * rounds each, CPU of the client / the app's Node server per round:
 * unlimited 123–149 / 59–69 ms, 64 connections 29–51 / 24–33 ms, 16
 * connections 19–22 / 9–10 ms; 32 keeps most of that saving with room for an
 * app's parallel slow requests.
 */
export const UPSTREAM_CONNECTIONS = 32;

/** Waiting requests go to connections of their own once none in flight has ended for this long, ms. */
const UPSTREAM_STALL_MS = 250;

interface UpstreamOptions {
  connections?: number;
  stallMs?: number;
  /** TLS to an https target (target.ts): the trust decision for its certificate. */
  tls?: TargetTlsOptions;
}

/** What the forwarder dispatches on (undici's Dispatcher.dispatch) and closes. */
export interface Upstream {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}

interface Waiting {
  options: Dispatcher.DispatchOptions;
  handler: Dispatcher.DispatchHandler;
}

export function createUpstream(origin: string, options: UpstreamOptions = {}): Upstream {
  const limit = options.connections ?? UPSTREAM_CONNECTIONS;
  const stallMs = options.stallMs ?? UPSTREAM_STALL_MS;
  // One request at a time on each connection; no timeouts of the client's own: the forwarder waits for the
  // head `timeoutMs` and a body (SSE, a slow download) as long as it flows. undici sets TCP_NODELAY.
  // Sockets through guardedConnector: an app that closes the connection after a response must not crash the client (upstream-socket.ts).
  const poolOptions: Pool.Options = {
    pipelining: 1,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_IDLE_MS,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: guardedConnector(options.tls),
  };
  const shared = new Pool(origin, { ...poolOptions, connections: limit });
  const overflow = new Pool(origin, { ...poolOptions, connections: null });
  const waiting: Waiting[] = [];
  let inFlight = 0;
  /** When a shared request last ended: none ended for stallMs while requests wait means the connections are held. */
  let lastEnd = Date.now();
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const ended = () => {
    inFlight--;
    lastEnd = Date.now();
    while (waiting.length > 0 && inFlight < limit) {
      const next = waiting.shift()!;
      send(next.options, next.handler);
    }
  };

  /** The handler with its end and error counted (each request ends once: one or the other). */
  const counted = (handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler => {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      ended();
    };
    // undici takes a handler with onRequestStart for one of its current API (the forwarder's).
    return {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onResponseStart: (controller, status, headers, message) => handler.onResponseStart?.(controller, status, headers, message),
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
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
    if (quiet < stallMs) {
      stallTimer = setTimeout(checkStall, stallMs - quiet);
      return;
    }
    // Every shared connection is held by a response that does not end: the waiting requests get their own.
    for (const w of waiting.splice(0)) overflow.dispatch(w.options, w.handler);
  };

  const route = (dispatchOptions: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => {
    if (closed) return overflow.dispatch(dispatchOptions, handler);
    if (inFlight < limit) {
      send(dispatchOptions, handler);
      return true;
    }
    waiting.push({ options: dispatchOptions, handler });
    stallTimer ??= setTimeout(checkStall, stallMs);
    return true;
  };

  return {
    // A request the app closed a reused connection under, unanswered, goes through here again (stale-connection.ts).
    dispatch: (dispatchOptions, handler) => route(dispatchOptions, resendOnStaleConnection(dispatchOptions, handler, route)),
    async close() {
      closed = true;
      if (stallTimer !== undefined) clearTimeout(stallTimer);
      for (const w of waiting.splice(0)) overflow.dispatch(w.options, w.handler);
      await Promise.all([shared.close(), overflow.close()]);
    },
  };
}
