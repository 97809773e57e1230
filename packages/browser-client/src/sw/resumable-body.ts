/**
 * A response body that survives the data channel failing or stalling under it: when a read fails with a
 * channel failure, or the body comes slower than MOVE_BELOW_BYTES_PER_S over MOVE_WINDOW_MS of waiting for
 * it while `stalls()` says the path is lossy, the rest comes from `resume(offset, why)` (the relay), and the
 * consumer sees one uninterrupted body. A slow body the relay cannot resume (resumeViaRelay refuses) stays.
 */
import { ChannelError } from './errors';

/** Resumptions per body: the relay's own failures are final. */
const MAX_RESUMES = 1;
/**
 * On a path called lossy, a body slower than this (2 Mbit/s) is a collapsed association (retransmission
 * timeouts backing off: 1 MB in 20 s measured), not a slow link's: a healthy lossy channel carries ~2 MB/s.
 */
export const MOVE_BELOW_BYTES_PER_S = 256 * 1024;
/** The time spent waiting for the channel's bytes (not the consumer's) over which a body's rate is taken. */
export const MOVE_WINDOW_MS = 1_000;

export type ResumeWhy = 'channel-failed' | 'body-stalled';
type Read = ReadableStreamReadResult<Uint8Array>;

export interface StallMove {
  /** The path is lossy now (lossy-path.ts stalls()). */
  stalls: () => boolean;
  windowMs?: number;
  belowBytesPerS?: number;
}

export function resumableBody(
  first: ReadableStream<Uint8Array>,
  resume: (offset: number, why: ResumeWhy) => Promise<ReadableStream<Uint8Array>>,
  move: StallMove = { stalls: () => false },
): ReadableStream<Uint8Array> {
  const windowMs = move.windowMs ?? MOVE_WINDOW_MS;
  const belowBytesPerS = move.belowBytesPerS ?? MOVE_BELOW_BYTES_PER_S;
  let reader = first.getReader();
  let offset = 0;
  let resumes = 0;
  let moveTried = false;
  /** A read still waited for when a window ended: a chunk it brings is not lost. */
  let pending: Promise<Read> | undefined;
  /** The current window: time spent waiting for reads, and the bytes they brought. */
  let waited = 0;
  let windowBytes = 0;
  const canMove = () => !moveTried && resumes < MAX_RESUMES;
  const switchTo = (next: ReadableStream<Uint8Array>) => {
    void reader.cancel().catch(() => undefined);
    pending = undefined;
    reader = next.getReader();
    resumes++;
  };
  /** The next read, or undefined when the window ends first. A window is timed only while the path is lossy. */
  const nextRead = async (): Promise<Read | undefined> => {
    pending ??= reader.read();
    const watching = canMove() && move.stalls();
    if (!watching) {
      waited = 0;
      windowBytes = 0;
    }
    const started = performance.now();
    let stopTimer = () => {};
    const windowEnd = new Promise<undefined>((resolve) => {
      if (!watching) return;
      const timer = setTimeout(resolve, Math.max(0, windowMs - waited));
      stopTimer = () => clearTimeout(timer);
    });
    try {
      const r = await Promise.race([pending, windowEnd]);
      if (r !== undefined) pending = undefined;
      return r;
    } catch (err) {
      pending = undefined;
      throw err;
    } finally {
      stopTimer();
      if (watching) waited += performance.now() - started;
    }
  };
  /** A window is over: a slow body on a lossy path tries the relay once. */
  const windowOver = async () => {
    const slow = (windowBytes * 1000) / waited < belowBytesPerS;
    waited = 0;
    windowBytes = 0;
    if (!slow || !move.stalls()) return;
    moveTried = true;
    await resume(offset, 'body-stalled').then(switchTo, () => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let r: Read | undefined;
          try {
            r = await nextRead();
          } catch (err) {
            if (!(err instanceof ChannelError && err.channelFailure) || resumes >= MAX_RESUMES) return controller.error(err);
            try {
              switchTo(await resume(offset, 'channel-failed'));
            } catch (e) {
              return controller.error(e);
            }
            continue;
          }
          if (r?.done) return controller.close();
          if (r) {
            offset += r.value.length;
            windowBytes += r.value.length;
          }
          if (canMove() && waited >= windowMs) await windowOver();
          if (r) return controller.enqueue(r.value);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Drops the first `n` bytes of a stream. */
export function skipBytes(stream: ReadableStream<Uint8Array>, n: number): ReadableStream<Uint8Array> {
  let left = n;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (left >= chunk.length) {
          left -= chunk.length;
          return;
        }
        controller.enqueue(left > 0 ? chunk.subarray(left) : chunk);
        left = 0;
      },
    }),
  );
}
