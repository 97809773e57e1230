/**
 * A lingering close (nginx's `lingering_close`): after an HTTP/1.1 response that came before the whole request body
 * (an app's 413, or its 200 once it had seen enough, or an error page), the connection closes, but not while the
 * browser is still sending. Closing a socket with unread bytes makes the kernel answer with a TCP reset, and Firefox
 * then fails the fetch (Chromium too, at times) although the whole response had arrived. So the server half-closes
 * (FIN after the response) and reads and drops the rest of the body, then closes: when the body ended, when
 * LINGER_MAX_BYTES more came, or LINGER_MS on, whichever is first. Past either bound the browser may still see a
 * reset, as from nginx past its `lingering_time`.
 *
 * HTTP/2 needs none of this: a stream reset with NO_ERROR after the response tells the browser to stop sending (RFC
 * 9113 §8.1), and it keeps the response (http2-compat.ts closeExchange).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHttp2Response } from './http2-compat';

/** Bytes of the rest of a body read and dropped at most: a multi-MB upload answered early ends as it would direct. */
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;
/** Longest linger, ms (nginx's `lingering_time` default). */
export const LINGER_MS = 30_000;

/**
 * Makes the HTTP/1.1 connection of `res` (answered with `connection: close`: closeAfterResponse()) linger on the rest
 * of `req`'s body whenever it is closed gently: Node closes it once the response is flushed, and so do
 * closeExchange(), all through the socket's destroySoon(), which this replaces for this socket
 * (destroy() still cuts at once). Call it before the response ends. Nothing on HTTP/2.
 */
export function lingerOnRestOfBody(req: IncomingMessage, res: ServerResponse): void {
  const socket = res.socket;
  if (isHttp2Response(res) || !socket || socket.destroyed || req.complete) return;
  let lingering = false;
  let closing = false;
  socket.destroySoon = function lingeringClose() {
    if (lingering) return;
    lingering = true;
    // The response is complete: FIN after it, and the socket still reads.
    socket.end();
    const close = () => {
      if (closing) return;
      closing = true;
      clearTimeout(timer);
      if (socket.writableFinished) socket.destroy();
      else socket.once('finish', () => socket.destroy());
    };
    const timer = setTimeout(close, LINGER_MS);
    let bytes = 0;
    // What is left of the body, dropped: nothing else reads it any more.
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > LINGER_MAX_BYTES) close();
    });
    req.once('end', close);
    socket.once('close', () => clearTimeout(timer));
    req.resume();
  };
}
