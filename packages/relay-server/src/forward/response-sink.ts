/**
 * Where the app's response body goes on its way to the viewer: the stream.
 * While it is full the app is paused, and what waits counts against the
 * process's buffer budget (its hold).
 */
import type { Dispatcher } from 'undici';
import type { BufferHold, Stream } from '@wingman/protocol';
import type { ExchangeGuard } from './exchange-guard';

interface ResponseSink {
  /** Passes one chunk of the app's body on; pauses the app (`c`) until the stream drains. */
  write(c: Dispatcher.DispatchController, chunk: Buffer): void;
  /** The app's body ended: so does the stream. */
  end(): void;
}

export function createResponseSink(stream: Stream, hold: BufferHold, guard: ExchangeGuard): ResponseSink {
  return {
    write(c, chunk) {
      if (stream.write(chunk)) return;
      c.pause();
      hold.set(stream.pendingBytes);
      stream.once(
        'drain',
        guard.wrap(() => {
          hold.set(0);
          c.resume();
        }),
      );
    },
    end() {
      stream.end();
    },
  };
}
