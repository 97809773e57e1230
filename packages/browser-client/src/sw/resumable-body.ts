/**
 * A response body that survives the data channel dying under it: when a
 * read fails with a channel failure, the rest comes from `resume(offset)`
 * (the relay), and the consumer sees one uninterrupted body.
 */
import { ChannelError } from './errors';

/** Resumptions per body: the relay's own failures are final. */
const MAX_RESUMES = 1;

export function resumableBody(first: ReadableStream<Uint8Array>, resume: (offset: number) => Promise<ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  let reader = first.getReader();
  let offset = 0;
  let resumes = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          try {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            offset += value.length;
            return controller.enqueue(value);
          } catch (err) {
            if (!(err instanceof ChannelError && err.channelFailure) || resumes >= MAX_RESUMES) return controller.error(err);
            resumes++;
            try {
              reader = (await resume(offset)).getReader();
            } catch (e) {
              return controller.error(e);
            }
          }
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
