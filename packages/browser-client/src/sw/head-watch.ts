/**
 * A page load's static GET (a script, style sheet, image or font) carried over P2P whose head has not
 * come HEAD_MOVE_AFTER_MS after it left, at a check where the path is called lossy, is given up on the
 * channel and sent over the relay (router.ts overP2p, reason `head-stalled`): behind a collapsed
 * association's queue a module's head waited 7.6 s. A dev server answers those in milliseconds, so the
 * wait is the channel's; a fetch() or a navigation is never moved (a slow endpoint would run twice).
 */

/** How long a static GET's head may take over P2P before a lossy path's channel is given up on for it, and how often it is checked after. */
export const HEAD_MOVE_AFTER_MS = 1_000;
const MOVED_DESTINATIONS = new Set(['script', 'style', 'image', 'font']);

export interface HeadWatch {
  /** Aborted when the request is to go over the relay instead. */
  signal: AbortSignal;
  /** The head came (or the exchange ended): no more checks. */
  stop(): void;
}

/** A watch for a request of `method` and `destination`, or undefined when such a request is never moved. */
export function watchHead(method: string, destination: string, stalls: () => boolean, everyMs = HEAD_MOVE_AFTER_MS): HeadWatch | undefined {
  if ((method !== 'GET' && method !== 'HEAD') || !MOVED_DESTINATIONS.has(destination)) return undefined;
  const controller = new AbortController();
  const timer = setInterval(() => {
    if (!stalls()) return;
    clearInterval(timer);
    controller.abort();
  }, everyMs);
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}
