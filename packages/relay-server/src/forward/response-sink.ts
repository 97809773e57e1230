/**
 * Where the app's response body goes on its way to the viewer: the stream,
 * or over P2P a gzip transform in front of it (p2p-compress.ts). While the
 * sink is full the app is paused, and what waits counts against the
 * process's buffer budget (its hold).
 */
import type { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { BufferHold, Stream } from '@wingman/protocol';
import type { ExchangeGuard } from './exchange-guard';
import { channelGzip } from './p2p-compress';
import { pipeBody } from './respond';

export interface ResponseSink {
  /** Passes one chunk of the app's body on; pauses the app (`c`) until the sink drains. */
  write(c: Dispatcher.DispatchController, chunk: Buffer): void;
  /** The app's body ended. True when the stream ended now; through gzip, pipeBody ends it once the last compressed bytes are in. */
  end(): boolean;
  /** Compresses what follows (called before the first chunk); `onEnd` and `onAbort` as pipeBody's. */
  gzip(onEnd: () => void, onAbort: (reason: string) => void): void;
  /** The exchange stopped: the gzip transform, if any, goes. */
  destroy(): void;
}

export function createResponseSink(stream: Stream, hold: BufferHold, guard: ExchangeGuard): ResponseSink {
  let gzipper: Transform | undefined;
  return {
    write(c, chunk) {
      const sink = gzipper ?? stream;
      if (sink.write(chunk)) return;
      c.pause();
      hold.set(stream.pendingBytes + (gzipper ? gzipper.writableLength + gzipper.readableLength : 0));
      sink.once(
        'drain',
        guard.wrap(() => {
          hold.set(0);
          c.resume();
        }),
      );
    },
    end() {
      if (!gzipper) {
        stream.end();
        return true;
      }
      gzipper.end();
      return false;
    },
    gzip(onEnd, onAbort) {
      gzipper = channelGzip();
      pipeBody(gzipper, stream, { onEnd, onAbort, guard });
    },
    destroy() {
      gzipper?.destroy();
    },
  };
}
