/**
 * Aborts the app signals through the shim (`wingman:abort` + ABORT_ID_HEADER): Chromium never aborts
 * FetchEvent.request.signal when the page aborts its fetch (w3c/ServiceWorker#1544). One AbortController per
 * request that carries an id, combined with request.signal; entries live only while their request is handled.
 */
import { anySignal } from '../shared/baseline';
export type AbortRegistry = ReturnType<typeof createAbortRegistry>;

/** Ids tracked at once; a page cannot make the SW hold more (each is one pending request anyway). */
const MAX_TRACKED = 4096;

export function createAbortRegistry() {
  const pending = new Map<string, AbortController>();
  return {
    /** The signal to use for `request`: its own, plus the shim's abort when it carries an id. `done()` forgets the id. */
    track(request: Request, id: string | null): { signal: AbortSignal; done(): void } {
      if (!id || pending.size >= MAX_TRACKED || pending.has(id)) return { signal: request.signal, done: () => undefined };
      const c = new AbortController();
      pending.set(id, c);
      return { signal: anySignal([request.signal, c.signal]), done: () => pending.delete(id) };
    },
    /** The shim reported an abort. Unknown ids (finished requests) are ignored. */
    abort(id: string): void {
      const c = pending.get(id);
      if (!c) return;
      pending.delete(id);
      c.abort();
    },
  };
}
