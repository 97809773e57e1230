/**
 * When a forwarded request may start towards the app: once its exchange's
 * claim is won (exchange-record.ts; at once for a request without an id)
 * and its framing says whether it has a body (at once with a
 * Content-Length, else with its first frames). It starts once at most, and
 * only while `open()` holds (its stream still waits for an answer).
 */
export interface StartGate {
  framingKnown(hasBody: boolean): void;
  claimWon(): void;
}

/** `contentLength`: the request's Content-Length, when it has one (its framing is then known at once). */
export function createStartGate(contentLength: number | undefined, start: (hasBody: boolean) => void, open: () => boolean): StartGate {
  let hasBody = contentLength === undefined ? undefined : contentLength > 0;
  let won = false;
  let started = false;
  const go = () => {
    if (!won || hasBody === undefined || started || !open()) return;
    started = true;
    start(hasBody);
  };
  return {
    framingKnown(known) {
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
