/**
 * A P2P response body cut to its declared Content-Length, as a browser reading HTTP/1.1 would: bytes past it
 * are dropped, and a body that ends short errors, as on a cut connection.
 */
import { BodyLengthGuard } from '@wingman/protocol';

export function declaredLengthStream(declared: number): TransformStream<Uint8Array, Uint8Array> {
  const guard = new BodyLengthGuard(declared);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const { accepted, excess } = guard.take(chunk);
      if (accepted.length > 0) controller.enqueue(accepted);
      if (excess) controller.terminate();
    },
    flush(controller) {
      if (guard.short) controller.error(new TypeError(`response body ended after ${guard.bytes} of ${declared} declared bytes`));
    },
  });
}
