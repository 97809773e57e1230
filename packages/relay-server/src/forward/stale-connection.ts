/**
 * A request the app never answered because it closed a reused keep-alive
 * connection under it is sent again, as browsers and curl do. An app
 * closes an idle keep-alive connection when it chooses (nginx's
 * `keepalive_timeout`, Node's `keepAliveTimeout`, without a `Keep-Alive`
 * hint that would tell the client when); a request the client writes on it
 * meanwhile meets a closed connection (a FIN, or a reset) before any byte
 * of an answer. Straight on the app the browser sends it again on a new
 * connection and the page never knows (Chromium resends on a reused
 * connection that failed before any response byte); through the agent it
 * was a 502 page.
 *
 * Only a request without a body is sent again (there is nothing to replay),
 * only after a connection that had carried a response and closed before a
 * byte of this one's (upstream-socket.ts marks that error), and at most
 * STALE_CONNECTION_RESENDS times: each attempt takes another of the pool's
 * idle connections, which may have gone stale the same way, or a new one,
 * whose failure is never resent.
 */
import type { Dispatcher } from 'undici';
import { closedUnansweredOnReuse } from './upstream-socket';

/** Resends of one request at most: one per stale idle connection it may meet, with room for a burst of them closing at once. */
const STALE_CONNECTION_RESENDS = 4;

/**
 * `handler`, with a failure on a stale connection before any response
 * answered by `send(options, sameHandler)` instead, while the request has
 * no body and resends remain.
 */
export function resendOnStaleConnection(
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  send: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => void,
): Dispatcher.DispatchHandler {
  if (options.body !== null && options.body !== undefined) return handler;
  let resends = 0;
  let answered = false;
  const resending: Dispatcher.DispatchHandler = {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onResponseStart(controller, status, headers, message) {
      answered = true;
      handler.onResponseStart?.(controller, status, headers, message);
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError(controller, error) {
      // No controller when the connection never opened (undici errors the request from its connect callback).
      if (!answered && controller?.aborted !== true && resends < STALE_CONNECTION_RESENDS && closedUnansweredOnReuse(error)) {
        resends++;
        return send(options, resending);
      }
      handler.onResponseError?.(controller, error);
    },
  };
  return resending;
}
