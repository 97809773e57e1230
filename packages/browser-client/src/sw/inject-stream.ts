/**
 * Inserts the shim's <script> into an HTML body as it streams: buffers only
 * until the insertion point is known (shared/html-inject.ts), then passes
 * everything through untouched.
 */
import { findShimInsertion, SHIM_TAG } from '../shared/html-inject';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `tag`: the shim's <script> (shimTag(), with a nonce where the app's CSP needs one). */
export function injectShim(body: ReadableStream<Uint8Array>, tag: string = SHIM_TAG): ReadableStream<Uint8Array> {
  const tagBytes = new TextEncoder().encode(tag);
  let pending: Uint8Array[] | undefined = [];
  const decide = (controller: TransformStreamDefaultController<Uint8Array>, complete: boolean) => {
    if (!pending) return;
    const prefix = concat(pending);
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
    controller.enqueue(concat([prefix.subarray(0, point.offset), tagBytes, prefix.subarray(point.offset)]));
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
