/**
 * A request the app never answered because it closed a reused keep-alive
 * connection under it (nginx's `keepalive_timeout`, Node's `keepAliveTimeout`)
 * is sent again, as browsers and curl do; through the agent it was a 502 page.
 * Only a request without a body, only after a connection that had carried a
 * response (upstream-socket.ts marks that error), at most STALE_CONNECTION_RESENDS
 * times: a new connection's failure is never resent.
 */
import type { Dispatcher } from 'undici';
import { closedUnansweredOnReuse } from './upstream-socket';

/** One per stale idle connection it may meet, with room for a burst of them closing at once. */
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
    ...handler,
    onResponseStart(controller, status, headers, message) {
      answered = true;
      handler.onResponseStart?.(controller, status, headers, message);
    },
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
