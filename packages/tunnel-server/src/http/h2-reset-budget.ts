/**
 * What is left of the HTTP/2 library's stream-reset allowance on one connection, so the server can retire the
 * connection before the library cuts it.
 *
 * nghttp2 (under Node's HTTP/2) limits the RST_STREAM frames a client may send, as its defence against "rapid reset"
 * floods: a token bucket of 1000 that refills 33 per whole second. Each reset takes one token. When the bucket is
 * empty, the library sends GOAWAY with INTERNAL_ERROR. Chromium then fails every request it had sent after the last
 * one the server processed (net::ERR_HTTP2_PROTOCOL_ERROR), and does not retry them.
 *
 * Browsers reset streams in normal use. Chromium sends RST_STREAM(CANCEL) for every 304 it gets when it revalidates
 * its cache, even when the 304 ended the stream. So a few quick reloads of a dev server's page with hundreds of
 * modules empty the bucket, and a reload fails halfway.
 *
 * A reset of a stream that has already closed never reaches JavaScript, so the resets themselves cannot be counted.
 * This budget counts the streams the client opened instead: each can draw at most one reset. It mirrors nghttp2's
 * bucket (size, refill, whole seconds), so `left()` is never more than what nghttp2 still allows. The Node options
 * that change the library's limit (`streamResetBurst`, `streamResetRate`) are left at their defaults, which these
 * constants restate.
 */

/** nghttp2's stream-reset bucket: its size (NGHTTP2_DEFAULT_STREAM_RESET_BURST). */
export const NGHTTP2_STREAM_RESET_BURST = 1000;
/** nghttp2's stream-reset bucket: tokens added per whole second (NGHTTP2_DEFAULT_STREAM_RESET_RATE). */
export const NGHTTP2_STREAM_RESET_RATE = 33;

interface ResetBudget {
  /** A stream the client opened: one token, as its reset would take. */
  take(nowMs: number): void;
  /** Tokens left at `nowMs`: resets nghttp2 still accepts at least. */
  left(nowMs: number): number;
}

export function createResetBudget(burst: number = NGHTTP2_STREAM_RESET_BURST, ratePerSecond: number = NGHTTP2_STREAM_RESET_RATE): ResetBudget {
  let tokens = burst;
  let stampS: number | undefined;
  // nghttp2_ratelim_update: refills by whole seconds elapsed since the last update.
  const refill = (nowMs: number) => {
    const nowS = Math.floor(nowMs / 1000);
    if (stampS !== undefined && nowS > stampS) tokens = Math.min(burst, tokens + (nowS - stampS) * ratePerSecond);
    stampS = nowS;
  };
  return {
    take(nowMs) {
      refill(nowMs);
      tokens = Math.max(0, tokens - 1);
    },
    left(nowMs) {
      refill(nowMs);
      return tokens;
    },
  };
}
