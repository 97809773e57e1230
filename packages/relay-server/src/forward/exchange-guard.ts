/**
 * One exchange's failures stay its own. The forwarder serves a stream in
 * callbacks: the stream's events, its timers, the HTTP client's handler, the
 * local WebSocket's events. An exception thrown in one of them (a bug, here
 * or in a library under it) would be uncaught — the protocol's emitter
 * rethrows a listener's exception outside its call, and a timer's or a
 * library event's has no caller to catch it — and end the process: in the
 * P2P host process, every viewer's channel with it. The guard takes it
 * instead: the stream is reset with ERR_INTERNAL and the error's message
 * (the exchange's 'close' listeners then stop its local request or socket),
 * and the stack goes to stderr as a warning. Exceptions thrown by the HTTP
 * client's own socket listeners are taken by upstream-socket.ts.
 */
import type { Stream } from '@wingman/protocol';

export interface ExchangeGuard {
  /** `fn`, whose exception fails this exchange instead of escaping. */
  wrap<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** Fails this exchange for `err`: the stream is reset, the stack reported. */
  fail(err: unknown): void;
}

/** The guard of `stream`'s exchange; its listeners' exceptions go to it from now on. */
export function guardExchange(stream: Stream): ExchangeGuard {
  const fail = (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    process.emitWarning(`wingman forwarder: ${error.stack ?? error.message}`);
    stream.reset('ERR_INTERNAL', `agent error: ${error.message.replace(/\s+/g, ' ').trim()}`);
  };
  stream.onListenerError(fail);
  return {
    fail,
    wrap:
      (fn) =>
      (...args) => {
        try {
          fn(...args);
        } catch (err) {
          fail(err);
        }
      },
  };
}
