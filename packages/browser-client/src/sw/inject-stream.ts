/**
 * Inserts the shim's <script> into an HTML body as it streams: buffers only
 * until the insertion point is known (shared/html-inject.ts), then passes
 * everything through untouched.
 */
import { concatBytes } from '@wingman/protocol';
import { findShimInsertion, SHIM_TAG } from '../shared/html-inject';

/** `tag`: the shim's <script> (shimTag(), with a nonce where the app's CSP needs one). */
export function injectShim(body: ReadableStream<Uint8Array>, tag: string = SHIM_TAG): ReadableStream<Uint8Array> {
  const tagBytes = new TextEncoder().encode(tag);
  let pending: Uint8Array[] | undefined = [];
  const decide = (controller: TransformStreamDefaultController<Uint8Array>, complete: boolean) => {
    if (!pending) return;
    const prefix = concatBytes(pending);
    const point = findShimInsertion(prefix, complete);
    if (point.kind === 'need-more') {
      pending = [prefix];
      return;
    }
    pending = undefined;
    if (point.kind === 'skip') {
      controller.enqueue(prefix);
      return;
    }
    controller.enqueue(concatBytes([prefix.subarray(0, point.offset), tagBytes, prefix.subarray(point.offset)]));
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!pending) return controller.enqueue(chunk);
        pending.push(chunk);
        decide(controller, false);
      },
      flush(controller) {
        decide(controller, true);
      },
    }),
  );
}
