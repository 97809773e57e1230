/**
 * The Service Worker's copy of the session's shell document. A top-level
 * navigation that the running SW sees (a reload, the session's URL opened in
 * another tab) is answered with it at once, instead of after a round trip to
 * the tunnel server, while the frame's document is already being fetched
 * (frame-prefetch.ts). The shell is the same document for every path of a
 * session (it reads its own location), so one copy serves them all.
 *
 * Each use asks the server for the current shell (SHELL_PATH) for the next
 * navigation: an answer without SHELL_HEADER (the session no longer offers
 * P2P, the viewer's access was withdrawn, the session is gone) forgets the
 * copy, so that the next navigation goes to the server and gets its answer.
 * A new SW version starts without a copy (activate): the copy's inline
 * script always matches the bundle of the SW that serves it.
 *
 * Kept in IndexedDB (a SW is stopped when idle) and in memory: a fetch event
 * must choose respondWith() synchronously, so the copy has to be at hand.
 */
import { SHELL_HEADER, SHELL_PATH } from '../shared/constants';
import type { KvStore } from './idb';

/** A shell is ~5 KB; anything much larger is not one. */
export const SHELL_COPY_MAX_BYTES = 64 * 1024;

const KEY = 'shell-copy';

interface Stored {
  html: string;
  contentType: string;
}

function validStored(v: unknown): v is Stored {
  const o = v as Record<string, unknown>;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.html === 'string' &&
    o.html.length <= SHELL_COPY_MAX_BYTES &&
    typeof o.contentType === 'string' &&
    o.contentType.startsWith('text/html')
  );
}

export interface ShellCopy {
  /** The copy as a new Response for a navigation, or undefined when none is at hand. */
  response(): Response | undefined;
  /** Fetches the current shell and keeps it, or forgets the copy; one fetch at a time. Never rejects. */
  refresh(): Promise<void>;
  /** Forgets the copy (a new SW version). Never rejects. */
  clear(): Promise<void>;
}

export function createShellCopy(kv: KvStore, origin: string, fetchFn: typeof fetch = fetch): ShellCopy {
  let copy: Stored | undefined;
  /** Bumped by every change: a load that finishes after one must not bring back what it replaced. */
  let version = 0;
  let inFlight: Promise<void> | undefined;

  const loaded = version;
  kv.get<unknown>(KEY).then(
    (v) => {
      if (version === loaded && validStored(v)) copy = v;
    },
    () => undefined,
  );

  const keep = async (next: Stored | undefined): Promise<void> => {
    version += 1;
    copy = next;
    // Lost on a failed write: the copy then lasts as long as this SW instance.
    await kv.put(KEY, next ?? null).catch(() => undefined);
  };

  async function fetchShell(): Promise<void> {
    let res: Response;
    try {
      res = await fetchFn(new URL(SHELL_PATH, origin).href, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' });
    } catch {
      return; // offline, or the server is restarting: the copy stays
    }
    if (res.status >= 500) return void res.body?.cancel().catch(() => undefined);
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status !== 200 || res.headers.get(SHELL_HEADER) !== '1' || !contentType.startsWith('text/html')) {
      void res.body?.cancel().catch(() => undefined);
      return keep(undefined);
    }
    const html = await res.text().catch(() => undefined);
    if (html === undefined) return;
    await keep(html.length <= SHELL_COPY_MAX_BYTES ? { html, contentType } : undefined);
  }

  return {
    response() {
      if (!copy) return undefined;
      // A constructed Response has no URL of its own: the document keeps the navigation's URL.
      return new Response(copy.html, {
        status: 200,
        headers: { 'content-type': copy.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', [SHELL_HEADER]: '1' },
      });
    },
    refresh() {
      inFlight ??= fetchShell().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    clear() {
      return keep(undefined);
    },
  };
}
