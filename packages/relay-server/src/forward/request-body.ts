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
  return new BodyPipe(stream, options);
}

/** A class, not closures: one object per request, most of which (GET) have no body. */
class BodyPipe {
  /** The whole body went to the local request (read only). */
  complete = false;
  private received = 0;
  private framingKnown = false;
  private discarding = false;
  private violated = false;
  private sink: Duplex | undefined;
  /** Body events before pipeTo(): in practice none. */
  private early: Uint8Array[] | undefined;
  private progressed: (() => void) | undefined;

  constructor(
    private readonly stream: Stream,
    private readonly options: RequestBodyOptions,
  ) {
    stream.on('data', (chunk) => this.data(chunk));
    stream.on('end', () => this.end());
  }

  /** What arrived before is written first. */
  pipeTo(sink: Duplex): void {
    const { options, stream } = this;
    this.sink = sink;
    // A write's callback runs once the client read it: an app that reads, however slowly, is not stalled.
    this.progressed = options.guard.wrap(() => options.hold.progressed());
    sink.on(
      'drain',
      options.guard.wrap(() => {
        options.hold.set(0);
        if (!this.discarding) stream.resume();
      }),
    );
    for (const chunk of this.early?.splice(0) ?? []) this.write(chunk);
    if (this.complete && !this.discarding) this.finish();
  }

  /** From now on read and drop the rest. */
  discard(): void {
    this.discarding = true;
    this.early = undefined;
    this.options.hold.set(0);
    this.stream.resume();
  }

  private data(chunk: Uint8Array): void {
    const { contentLength } = this.options;
    this.known(true);
    if (this.discarding) return;
    this.received += chunk.length;
    if (contentLength !== undefined && this.received > contentLength) {
      return this.violate(`request body longer than its Content-Length (${contentLength})`);
    }
    if (this.sink) this.write(chunk);
    else (this.early ??= []).push(chunk);
  }

  private end(): void {
    this.complete = true;
    // A sink attached by known() itself (no body: the request starts now) was ended by pipeTo().
    const attached = this.sink !== undefined;
    this.known(false);
    if (this.discarding || !attached) return;
    this.finish();
  }

  private known(hasBody: boolean): void {
    if (this.framingKnown) return;
    this.framingKnown = true;
    this.options.onFramingKnown(hasBody);
  }

  private violate(reason: string): void {
    if (this.violated) return;
    this.violated = true;
    this.discarding = true;
    this.options.onViolation(reason);
  }

  private write(chunk: Uint8Array): void {
    const sink = this.sink!;
    // A chunk is a view into a larger message; one that waits is copied, so a stalled upload pins only its bytes.
    sink.write(sink.writableLength + sink.readableLength > 0 ? Buffer.from(chunk) : chunk, this.progressed);
    if (sink.writableLength > REQUEST_BODY_HIGH_WATER_BYTES && !this.stream.isPaused) {
      this.stream.pause();
      this.options.hold.set(sink.writableLength + sink.readableLength + this.stream.receiveExposure);
    }
  }

  private finish(): void {
    const { contentLength } = this.options;
    if (contentLength !== undefined && this.received < contentLength) {
      return this.violate(`request body of ${this.received} bytes, Content-Length ${contentLength}`);
    }
    this.sink!.end();
  }
}
