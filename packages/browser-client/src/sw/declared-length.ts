/**
 * A P2P response body cut to its declared Content-Length. A Response the
 * Service Worker builds has no connection to smuggle a next response onto,
 * but the page must still get the message the head describes, as a browser
 * reading HTTP/1.1 would: bytes past the length are dropped (the body ends
 * there and the rest of the stream is cancelled), and a body that ends short
 * errors, so the page's read fails as on a cut connection.
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
