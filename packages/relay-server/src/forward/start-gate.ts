/**
 * When a forwarded request may start towards the app: its claim won
 * (exchange-record.ts) and its framing known (Content-Length, else its first
 * frames). Once at most, and only while `open()` holds.
 */
/** `contentLength`: the request's Content-Length, when it has one (its framing is then known at once). */
export function createStartGate(contentLength: number | undefined, start: (hasBody: boolean) => void, open: () => boolean) {
  let hasBody = contentLength === undefined ? undefined : contentLength > 0;
  let won = false;
  let started = false;
  const go = () => {
    if (!won || hasBody === undefined || started || !open()) return;
    started = true;
    start(hasBody);
  };
  return {
    framingKnown(known: boolean) {
      if (contentLength !== undefined) return;
      hasBody = known;
      go();
    },
    claimWon() {
      won = true;
      go();
    },
  };
}
