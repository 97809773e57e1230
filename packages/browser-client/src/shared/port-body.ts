/**
 * A byte stream over a MessagePort with credit-based flow control: the sender may have at most `windowBytes`
 * unacknowledged; the receiver returns credit as its consumer reads. Chunks are transferred ArrayBuffers:
 * faster than transferable streams here, and needing none (Safari); docs/browser-client.md §Routing rules.
 */
import { concatBytes } from '@wingman/protocol';
import { PORT_CHUNK_BYTES, PORT_WINDOW_BYTES } from './constants';
import type { BodyCredit, BodyData, BodyEnd } from './messages';

type Post = (message: BodyData | BodyEnd | BodyCredit, transfer?: Transferable[]) => void;

/** Sending half. Feed it `credit` messages from the peer. */
export type BodySender = ReturnType<typeof createBodySender>;

export function createBodySender(post: Post, windowBytes = PORT_WINDOW_BYTES) {
  let inflight = 0;
  let closed: Error | undefined;
  const waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  const hasRoom = () => inflight < windowBytes;
  const wake = () => {
    for (const x of waiters.splice(0)) x.resolve();
  };

  return {
    /** Queues a chunk (split into PORT_CHUNK_BYTES pieces). Returns false when the window is full: wait for room. */
    send(chunk: Uint8Array, owned = false): boolean {
      if (closed) return false;
      const total = chunk.length;
      for (let o = 0; o < total; o += PORT_CHUNK_BYTES) {
        const piece = chunk.subarray(o, Math.min(total, o + PORT_CHUNK_BYTES));
        // Transfer the caller's buffer when it is exactly this piece and the
        // caller gave it away; copy otherwise (views into shared buffers).
        const whole = owned && piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength && !(piece.buffer instanceof SharedArrayBufferCtor);
        const ab = whole ? (piece.buffer as ArrayBuffer) : piece.slice().buffer;
        // Count before posting: the transfer detaches `piece` (its length becomes 0).
        inflight += piece.length;
        post({ t: 'data', chunk: ab }, [ab]);
      }
      return hasRoom();
    },
    end(): void {
      if (!closed) post({ t: 'end' });
    },
    /** Resolves once the window has room again; rejects when the sender is closed. */
    room(): Promise<void> {
      if (closed) return Promise.reject(closed);
      if (hasRoom()) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    credit(bytes: number): void {
      inflight = Math.max(0, inflight - bytes);
      if (hasRoom()) wake();
    },
    /** Stops: pending room() waits reject with `reason`. */
    close(reason: Error): void {
      if (closed) return;
      closed = reason;
      for (const x of waiters.splice(0)) x.reject(reason);
    },
  };
}

/** SharedArrayBuffer is absent without cross-origin isolation; a stand-in class keeps `instanceof` safe. */
export const SharedArrayBufferCtor: { new (n: number): object } = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : class {};

/** Receiving half: a ReadableStream fed by data/end/abort from the port. */
export type BodyReceiver = ReturnType<typeof createBodyReceiver>;

interface BodyReceiverOptions {
  credit(bytes: number): void;
  /** The consumer cancelled the stream (e.g. fetch aborted): tell the sender. */
  cancel(reason: unknown): void;
  windowBytes?: number;
}

export function createBodyReceiver(options: BodyReceiverOptions) {
  const windowBytes = options.windowBytes ?? PORT_WINDOW_BYTES;
  const queue: Uint8Array[] = [];
  let ended = false;
  let failed: Error | undefined;
  let done = false;
  let pendingCredit = 0;
  let bytesRead = 0;
  let wake: (() => void) | undefined;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  // Made when first asked for: a body taken whole (takeWhole) never needs one.
  let stream: ReadableStream<Uint8Array> | undefined;
  // highWaterMark 0: pull() runs only while the consumer has a read pending,
  // so credit goes back exactly as fast as the consumer reads.
  const makeStream = () =>
    new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (queue.length === 0 && !ended && !failed) await new Promise<void>((r) => (wake = r));
          const chunk = queue.shift();
          if (chunk) {
            bytesRead += chunk.length;
            controller.enqueue(chunk);
            pendingCredit += chunk.length;
            // Credit in quarters of the window: few messages, never a stall.
            if (pendingCredit >= windowBytes / 4) {
              options.credit(pendingCredit);
              pendingCredit = 0;
            }
            return;
          }
          done = true;
          if (failed) controller.error(failed);
          else controller.close();
        },
        cancel: (reason) => {
          done = true;
          queue.length = 0;
          options.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );

  return {
    get stream(): ReadableStream<Uint8Array> {
      return (stream ??= makeStream());
    },
    push(chunk: ArrayBuffer): void {
      if (done || ended || failed) return;
      queue.push(new Uint8Array(chunk));
      notify();
    },
    end(): void {
      if (done || failed) return;
      ended = true;
      notify();
    },
    /** The whole body at once, when it has all arrived and nothing read the stream yet (which is then spent); else undefined. */
    takeWhole(): Uint8Array | undefined {
      if (!ended || failed || done || bytesRead > 0) return undefined;
      done = true;
      const whole = queue.length === 1 ? queue[0] : concatBytes(queue);
      queue.length = 0;
      return whole;
    },
    /** Fails the stream (the consumer's next read rejects with `error`). */
    abort(error: Error): void {
      if (done || ended) return;
      failed = error;
      queue.length = 0;
      notify();
    },
  };
}

/**
 * Pumps a ReadableStream into a sender, waiting for room between chunks and
 * between the pieces of a large one (a whole upload may come as one chunk).
 * Resolves once `end` was sent; rejects when reading failed or the sender closed.
 */
export async function pumpToSender(source: ReadableStream<Uint8Array>, sender: BodySender): Promise<void> {
  const reader = source.getReader();
  try {
    for (;;) {
      await sender.room();
      const { done, value } = await reader.read();
      if (done) break;
      for (let o = 0; value && o < value.length; o += PORT_CHUNK_BYTES) {
        if (o > 0) await sender.room();
        // The whole chunk when it fits one piece (transferred, not copied).
        sender.send(value.subarray(o, o + PORT_CHUNK_BYTES), true);
      }
    }
    sender.end();
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}
