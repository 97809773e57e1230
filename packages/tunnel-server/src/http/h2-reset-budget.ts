/**
 * What is left of the HTTP/2 library's stream-reset allowance on one connection, so the server can retire the
 * connection before the library cuts it. nghttp2 limits the RST_STREAM frames a client may send ("rapid reset"
 * defence: a bucket of 1000, refilled 33 per whole second) and then sends GOAWAY INTERNAL_ERROR, and Chromium fails
 * every request sent after the last one processed. Yet Chromium resets a stream for every 304 it revalidates, so a few
 * quick reloads of a dev server's page with hundreds of modules empty the bucket. Resets of closed streams never reach
 * JavaScript, so this counts the streams the client opened (each can draw at most one reset) in a mirror of nghttp2's
 * bucket: `left()` is never more than nghttp2 still allows. Node's `streamResetBurst`/`streamResetRate` stay default.
 */

/** nghttp2's stream-reset bucket: its size (NGHTTP2_DEFAULT_STREAM_RESET_BURST). */
export const NGHTTP2_STREAM_RESET_BURST = 1000;
/** nghttp2's stream-reset bucket: tokens added per whole second (NGHTTP2_DEFAULT_STREAM_RESET_RATE). */
export const NGHTTP2_STREAM_RESET_RATE = 33;

export function createResetBudget(burst: number = NGHTTP2_STREAM_RESET_BURST, ratePerSecond: number = NGHTTP2_STREAM_RESET_RATE) {
  let tokens = burst;
  let stampS: number | undefined;
  // nghttp2_ratelim_update: refills by whole seconds elapsed since the last update.
  const refill = (nowMs: number) => {
    const nowS = Math.floor(nowMs / 1000);
    if (stampS !== undefined && nowS > stampS) tokens = Math.min(burst, tokens + (nowS - stampS) * ratePerSecond);
    stampS = nowS;
  };
  return {
    /** A stream the client opened: one token, as its reset would take. */
    take(nowMs: number): void {
      refill(nowMs);
      tokens = Math.max(0, tokens - 1);
    },
    /** Tokens left at `nowMs`: resets nghttp2 still accepts at least. */
    left(nowMs: number): number {
      refill(nowMs);
      return tokens;
    },
  };
}
