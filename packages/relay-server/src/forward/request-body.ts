/**
 * The request side of an HTTP stream, written into the request to the local
 * app with backpressure both ways (the stream pauses, and withholds window
 * credit, while the local socket is full). It also enforces a declared
 * Content-Length exactly, so a peer cannot append bytes the local app would
 * parse as another request.
 */
import type { Duplex } from 'node:stream';
import type { BufferHold, Stream } from '@wingman/protocol';
import type { ExchangeGuard } from './exchange-guard';

interface RequestBodyOptions {
  /** Declared Content-Length; undefined when the body length is unknown. */
  contentLength: number | undefined;
  /** The first body event arrived: true for data, false for end without data. */
  onFramingKnown: (hasBody: boolean) => void;
  /** The body disagrees with Content-Length (longer or shorter). Called at most once. */
  onViolation: (reason: string) => void;
  /**
   * While the stream is paused for a full local socket, what the body holds
   * here (the queue towards the app, and what the peer may still send into
   * the stream) is reported to it; 0 once it drains. Each chunk the app's
   * HTTP client takes meanwhile is progress.
   */
  hold: BufferHold;
  /** The exchange's guard: the sink's callbacks run under it (the stream's listeners already do). */
  guard: ExchangeGuard;
}

export interface RequestBody {
  /** The stream delivered its end (the whole body went to the local request). */
  readonly complete: boolean;
  /** Starts writing the body into the local request (a PassThrough the HTTP client reads); what arrived before is written first. */
  pipeTo(sink: Duplex): void;
  /** Stop writing; from now on read and drop the rest of the body. */
  discard(): void;
}

/**
 * Bytes of request body queued towards the local app before the stream
 * pauses (and withholds window credit). Node's 16 KiB default would pause
 * after every frame of an upload, and a stream that paused stops growing its
 * window; 1 MiB keeps the local socket busy while bounding memory per request.
 */
export const REQUEST_BODY_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Bytes of request body the HTTP client may have waiting to be read (the
 * readable side of the body's PassThrough) on top of the above: without a
 * bound of its own it filled to the high-water mark too, before the client
 * had even connected, and an upload that stalls held twice what the stream
 * pauses for, uncounted.
 */
export const REQUEST_BODY_READ_AHEAD_BYTES = 64 * 1024;

export function createRequestBody(stream: Stream, options: RequestBodyOptions): RequestBody {
  let received = 0;
  let framingKnown = false;
  let complete = false;
  let discarding = false;
  let violated = false;
  let sink: Duplex | undefined;
  /** Body events before pipeTo(): in practice none (the request starts before or on the first chunk). */
  const early: Uint8Array[] = [];

  const known = (hasBody: boolean) => {
    if (framingKnown) return;
    framingKnown = true;
    options.onFramingKnown(hasBody);
  };
  const violate = (reason: string) => {
    if (violated) return;
    violated = true;
    discarding = true;
    options.onViolation(reason);
  };
  // The HTTP client took a chunk towards the app (a write's callback runs once the
  // client read it): an app that reads, however slowly, is not a stalled one.
  const progressed = options.guard.wrap(() => options.hold.progressed());
  const write = (chunk: Uint8Array) => {
    // A chunk is a view into a larger transport message; one that waits behind others is copied, so a stalled upload pins only its own bytes.
    sink!.write(sink!.writableLength + sink!.readableLength > 0 ? Buffer.from(chunk) : chunk, progressed);
    // Enough is queued for the local socket: stop delivery (and window credit) until it drains.
    if (sink!.writableLength > REQUEST_BODY_HIGH_WATER_BYTES && !stream.isPaused) {
      stream.pause();
      options.hold.set(sink!.writableLength + sink!.readableLength + stream.receiveExposure);
    }
  };
  const finish = () => {
    if (options.contentLength !== undefined && received < options.contentLength) {
      return violate(`request body of ${received} bytes, Content-Length ${options.contentLength}`);
    }
    sink!.end();
  };

  stream.on('data', (chunk) => {
    known(true);
    if (discarding) return;
    received += chunk.length;
    if (options.contentLength !== undefined && received > options.contentLength) {
      return violate(`request body longer than its Content-Length (${options.contentLength})`);
    }
    if (sink) write(chunk);
    else early.push(chunk);
  });
  stream.on('end', () => {
    complete = true;
    // A sink attached by known() itself (no body: the request starts now) was ended by pipeTo().
    const attached = sink !== undefined;
    known(false);
    if (discarding || !attached) return;
    finish();
  });

  return {
    get complete() {
      return complete;
    },
    pipeTo(s) {
      sink = s;
      sink.on(
        'drain',
        options.guard.wrap(() => {
          options.hold.set(0);
          if (!discarding) stream.resume();
        }),
      );
      for (const chunk of early.splice(0)) write(chunk);
      if (complete && !discarding) finish();
    },
    discard() {
      discarding = true;
      early.length = 0;
      options.hold.set(0);
      stream.resume();
    },
  };
}
