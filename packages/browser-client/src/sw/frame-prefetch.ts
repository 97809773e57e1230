/**
 * Fetches a frame's document ahead of its navigation. A full navigation
 * (reload, deep link, new tab) loads the shell, which then creates the app
 * frame at the same URL; on this VM parsing the shell and creating the frame
 * take 60–150 ms before the frame's navigation even reaches the SW
 * (docs/browser-client.md "Measurements"). When the SW sees the top-level
 * navigation, it starts fetching that document at once, over P2P or the relay as any
 * request, and the frame's navigation takes the result: the document's
 * fetch overlaps the shell's start-up instead of following it.
 *
 * Only GETs, only the exact URL the shell will load (a URL carrying the
 * shell's own query parameter is not prefetched), used once, dropped after
 * FRAME_PREFETCH_TTL_MS. The response rules (cookies, shim, redirects) are
 * applied for the frame's request when it takes the result.
 */
import { BADGE_QUERY_PARAM, VIA_HEADER, WINGMAN_PREFIX } from '../shared/constants';
import type { Obtained } from './obtained';

/** How long an unclaimed prefetch is kept. The frame's navigation follows within ~0.2 s here; 10 s covers a slow machine. */
export const FRAME_PREFETCH_TTL_MS = 10_000;
/** Prefetches kept at once (one per tab loading at the same moment is the normal case). */
const MAX_PENDING = 8;

export interface FramePrefetch {
  /**
   * Starts fetching the frame document for a top-level navigation, when it
   * qualifies; `run` carries it (router.obtain). Returns the work to keep
   * the SW alive for (FetchEvent.waitUntil), or undefined.
   */
  start(request: Request, run: (signal: AbortSignal) => Promise<Obtained>): Promise<unknown> | undefined;
  /** Keeps a frame document obtained elsewhere (the shell's early fetch on a first visit) for `href`'s frame navigation. */
  adopt(href: string, result: Promise<Obtained>): void;
  /** The prefetched result for a frame navigation, once; undefined when there is none. */
  take(request: Request, url: URL): Promise<Obtained> | undefined;
}

interface Entry {
  result: Promise<Obtained>;
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Drops a result nobody will read: aborts the fetch and releases the body. */
function discard(entry: Entry): void {
  clearTimeout(entry.timer);
  entry.controller.abort();
  void entry.result.then(
    (o) => {
      const body = o.kind === 'incoming' ? o.incoming.body : o.kind === 'relay' ? o.res.body : null;
      void body?.cancel().catch(() => undefined);
    },
    () => undefined,
  );
}

export function createFramePrefetch(origin: string): FramePrefetch {
  const pending = new Map<string, Entry>();
  function keep(key: string, result: Promise<Obtained>, controller: AbortController): void {
    const entry: Entry = {
      result,
      controller,
      timer: setTimeout(() => {
        if (pending.get(key) === entry) pending.delete(key);
        discard(entry);
      }, FRAME_PREFETCH_TTL_MS),
    };
    pending.set(key, entry);
  }

  return {
    start(request, run) {
      if (request.method !== 'GET' || request.mode !== 'navigate' || request.destination !== 'document') return undefined;
      if (request.headers.has(VIA_HEADER)) return undefined;
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return undefined;
      }
      if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX) || url.searchParams.has(BADGE_QUERY_PARAM)) return undefined;
      const key = url.href;
      const previous = pending.get(key);
      if (previous) {
        pending.delete(key);
        discard(previous);
      }
      if (pending.size >= MAX_PENDING) return undefined;
      const controller = new AbortController();
      const result = run(controller.signal);
      keep(key, result, controller);
      return result.catch(() => undefined);
    },
    adopt(href, result) {
      const previous = pending.get(href);
      if (previous) {
        pending.delete(href);
        discard(previous);
      }
      if (pending.size >= MAX_PENDING) return void discard({ result, controller: new AbortController(), timer: undefined });
      keep(href, result, new AbortController());
    },
    take(request, url) {
      if (request.method !== 'GET' || request.mode !== 'navigate' || (request.destination !== 'iframe' && request.destination !== 'frame')) return undefined;
      const entry = pending.get(url.href);
      if (!entry) return undefined;
      pending.delete(url.href);
      clearTimeout(entry.timer);
      return entry.result;
    },
  };
}
