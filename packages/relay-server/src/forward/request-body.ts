/**
 * The request side of an HTTP stream, written into the request to the local
 * app with backpressure both ways (the stream pauses and withholds window
 * credit while the local socket is full); a declared Content-Length is
 * enforced exactly, so a peer cannot append another request.
 */
import type { Duplex } from 'node:stream';
import type { BufferHold, Stream } from '@wingman/protocol';
import type { ExchangeGuard } from './exchange-guard';

interface RequestBodyOptions {
  /** Undefined when the body length is unknown. */
  contentLength: number | undefined;
  /** The first body event: true for data, false for end without data. */
  onFramingKnown: (hasBody: boolean) => void;
  /** Longer or shorter than Content-Length. At most once. */
  onViolation: (reason: string) => void;
  /** What the body holds while paused for a full local socket (0 once it drains); each chunk the client takes is progress. */
  hold: BufferHold;
  /** The sink's callbacks run under it (the stream's listeners already do). */
  guard: ExchangeGuard;
}

/**
 * Queued towards the app before the stream pauses: Node's 16 KiB pauses after
 * every frame, and a paused stream stops growing its window.
 */
export const REQUEST_BODY_HIGH_WATER_BYTES = 1024 * 1024;

/** On top of the above, what the client may have waiting to be read: unbounded, a stalled upload held twice as much, uncounted. */
export const REQUEST_BODY_READ_AHEAD_BYTES = 64 * 1024;

export type RequestBody = ReturnType<typeof createRequestBody>;

export function createRequestBody(stream: Stream, options: RequestBodyOptions) {
  let received = 0;
  let framingKnown = false;
  let complete = false;
  let discarding = false;
  let violated = false;
  let sink: Duplex | undefined;
  /** Body events before pipeTo(): in practice none. */
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
  // A write's callback runs once the client read it: an app that reads, however slowly, is not stalled.
  const progressed = options.guard.wrap(() => options.hold.progressed());
  const write = (chunk: Uint8Array) => {
    // A chunk is a view into a larger message; one that waits is copied, so a stalled upload pins only its bytes.
    sink!.write(sink!.writableLength + sink!.readableLength > 0 ? Buffer.from(chunk) : chunk, progressed);
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
    /** The whole body went to the local request. */
    get complete() {
      return complete;
    },
    /** What arrived before is written first. */
    pipeTo(s: Duplex) {
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
    /** From now on read and drop the rest. */
    discard() {
      discarding = true;
      early.length = 0;
      options.hold.set(0);
      stream.resume();
    },
  };
}
