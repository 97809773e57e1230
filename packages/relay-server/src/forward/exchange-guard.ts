/**
 * One exchange's failures stay its own: an exception in one of the
 * forwarder's callbacks (stream events, timers, the HTTP client's handler)
 * would be uncaught and end the process (in the P2P host, every viewer's
 * channel). The guard resets the stream with ERR_INTERNAL and the message,
 * and warns with the stack on stderr.
 */
import type { Stream } from '@wingman/protocol';

export type ExchangeGuard = ReturnType<typeof guardExchange>;

/** The guard of `stream`'s exchange; its listeners' exceptions go to it from now on. */
export function guardExchange(stream: Stream) {
  const fail = (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    process.emitWarning(`wingman forwarder: ${error.stack ?? error.message}`);
    stream.reset('ERR_INTERNAL', `agent error: ${error.message.replace(/\s+/g, ' ').trim()}`);
  };
  stream.onListenerError(fail);
  return {
    /** Fails this exchange for `err`: the stream is reset, the stack reported. */
    fail,
    /** `fn`, whose exception fails this exchange instead of escaping. */
    wrap:
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        try {
          fn(...args);
        } catch (err) {
          fail(err);
        }
      },
  };
}
