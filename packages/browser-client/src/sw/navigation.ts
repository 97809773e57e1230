/**
 * What the Service Worker does for navigations, apart from routing one
 * request (router.ts): docs/browser-client.md §Decision: a long-lived shell,
 * "Frame prefetch" and "Shell copy".
 *
 * Frame prefetch: when the SW sees a top-level navigation, it starts fetching
 * the document the shell's frame will load (over the relay while a channel is
 * up, route-decision.ts rule 2), and the frame's navigation takes the result,
 * instead of the fetch following the shell's parse and the frame's creation
 * (60–150 ms). GET only, the exact URL (not one with the shell's own query
 * parameter), used once, dropped after FRAME_PREFETCH_TTL_MS; the response
 * rules apply for the frame's request. A first visit's document, which the
 * shell fetched while the SW installed (page/shell-inline.ts), is adopted the
 * same way.
 *
 * Shell copy: a top-level navigation is answered at once with the SW's copy
 * of the session's shell (one document for every path). Each use asks the
 * server for the current shell (SHELL_PATH) for the next navigation; an answer
 * without SHELL_HEADER forgets the copy. A new SW version starts without one.
 * Kept in IndexedDB and in memory: respondWith() is chosen synchronously.
 *
 * Both are off while the server's P2P_NAVIGATION_PREFETCH is false
 * (sw/switches.ts): a top-level navigation then goes to the network as it
 * is, and a running shell forgets the copy instead of keeping one, so a
 * restarted SW has none either.
 */
import { BADGE_QUERY_PARAM, RESPONSE_HEAD_TIMEOUT_MS, SHELL_HEADER, SHELL_PATH, VIA_HEADER, WINGMAN_PREFIX } from '../shared/constants';
import { parseEarlyDocumentAnswer, type EarlyDocumentAnswer } from '../shared/messages';
import type { SwCookies } from './cookies';
import type { KvStore } from './idb';
import type { Obtained } from './obtained';
import { swSwitches, type Switches } from './switches';

/** How long an unclaimed prefetch is kept. The frame's navigation follows within ~0.2 s here; 10 s covers a slow machine. */
const FRAME_PREFETCH_TTL_MS = 10_000;
/** Prefetches kept at once (one per tab loading at the same moment is the normal case). */
const MAX_PENDING = 8;
/** A shell is ~5 KB; anything much larger is not one. */
const SHELL_COPY_MAX_BYTES = 64 * 1024;
const COPY_KEY = 'shell-copy';

/** What topLevel uses of a FetchEvent. */
export interface NavigationEvent {
  readonly request: Request;
  waitUntil(work: Promise<unknown>): void;
  respondWith(response: Response | Promise<Response>): void;
}

export interface Navigation {
  /**
   * A top-level navigation (router.ts leaves it to the network otherwise):
   * starts its frame's document (`run` carries it) and answers with the shell
   * copy when one is at hand, fetching a new copy for next time.
   */
  topLevel(event: NavigationEvent, url: URL, run: (signal: AbortSignal) => Promise<Obtained>): void;
  /**
   * A frame navigation's document fetched ahead, once; `again` fetches it
   * anew. Undefined when there is none.
   */
  frameDocument(request: Request, url: URL, again: () => Promise<Obtained>, privateShell: () => boolean): Promise<Obtained> | undefined;
  /** A first visit's app document that the shell fetched while the SW installed, coming on `port` (`wingman:early-doc`). */
  adoptEarly(url: URL, port: MessagePort): void;
  /** A shell runs: keep a copy of it if none is at hand (forget it while the navigation prefetch is off). */
  shellRuns(): Promise<void> | undefined;
  /** Forgets the copy (a new SW version). Never rejects. */
  clear(): Promise<void>;
}

export function createNavigation(
  kv: KvStore,
  origin: string,
  cookies: Pick<SwCookies, 'relayHeaderFor'>,
  fetchFn: typeof fetch = fetch,
  switches: Pick<Switches, 'on'> = swSwitches,
): Navigation {
  const copy = createShellCopy(kv, origin, fetchFn);
  const prefetch = createFramePrefetch(origin);
  const on = () => switches.on('navigationPrefetch');
  return {
    topLevel(event, url, run) {
      if (!on()) return;
      const { request } = event;
      const work = prefetch.start(request, url, run);
      if (work) event.waitUntil(work);
      if (request.method !== 'GET' || request.mode !== 'navigate' || request.destination !== 'document') return;
      if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX)) return;
      event.waitUntil(copy.refresh());
      // Nothing waits for the page being left, which the copy unloads within milliseconds.
      const response = copy.response();
      if (response) event.respondWith(response);
    },
    frameDocument(request, url, again, privateShell) {
      const early = prefetch.take(request, url);
      if (!early) return undefined;
      return early.catch(again).then((obtained) =>
        // Started at the shell's navigation, before a private session's shell could say so: its relay refused the
        // document. The shell loads the frame once its channel is verified, so ask again (over that channel).
        refusedAsPrivate(obtained) && privateShell() ? again() : obtained,
      );
    },
    adoptEarly(url, port) {
      prefetch.adopt(url.href, earlyDocument(url, port, origin, cookies));
    },
    shellRuns() {
      if (!on()) return copy.response() ? copy.clear() : undefined;
      return copy.response() ? undefined : copy.refresh();
    },
    clear: () => copy.clear(),
  };
}

/** A relayed answer of 403: what a private session's relay gives every app request. */
function refusedAsPrivate(obtained: Obtained): boolean {
  if (obtained.kind === 'relay') return obtained.res.status === 403;
  return obtained.kind === 'incoming' && obtained.incoming.transport === 'relay' && obtained.incoming.status === 403;
}

/**
 * The shell's early fetch as the relay's answer to the frame's navigation.
 * Used only when the jar holds nothing the browser's own jar lacks for that
 * URL: then the shell's fetch carried exactly the cookies the SW's relay
 * fetch would have. Otherwise, or when the shell's fetch failed, the frame's
 * navigation is fetched as any other.
 */
function earlyDocument(url: URL, port: MessagePort, origin: string, cookies: Pick<SwCookies, 'relayHeaderFor'>): Promise<Obtained> {
  const answer = new Promise<EarlyDocumentAnswer>((resolve, reject) => {
    const timer = setTimeout(() => done(undefined), RESPONSE_HEAD_TIMEOUT_MS);
    function done(a: EarlyDocumentAnswer | undefined) {
      clearTimeout(timer);
      port.close();
      if (a) resolve(a);
      else reject(new Error("the shell's early fetch brought no document"));
    }
    port.onmessage = (ev: MessageEvent) => done(parseEarlyDocumentAnswer(ev.data));
  });
  return answer.then(async (a) => {
    try {
      if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX)) throw new Error('not an app URL');
      if ((await cookies.relayHeaderFor(url, { crossSite: false, safeTopLevelNavigation: true })) !== '')
        throw new Error("the SW's jar has cookies the shell's fetch lacked");
      const headers = new Headers();
      for (const [name, value] of a.headers) headers.append(name, value);
      return { kind: 'relay', res: new Response(a.body, { status: a.status, headers }) };
    } catch (err) {
      if (a.body instanceof ReadableStream) void a.body.cancel().catch(() => undefined);
      throw err;
    }
  });
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

function createFramePrefetch(origin: string) {
  const pending = new Map<string, Entry>();
  function keep(key: string, result: Promise<Obtained>, controller: AbortController): void {
    const previous = pending.get(key);
    if (previous) {
      pending.delete(key);
      discard(previous);
    }
    if (pending.size >= MAX_PENDING) return void discard({ result, controller, timer: undefined });
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
    /** The work to keep the SW alive for, or undefined when the navigation does not qualify. */
    start(request: Request, url: URL, run: (signal: AbortSignal) => Promise<Obtained>): Promise<unknown> | undefined {
      if (request.method !== 'GET' || request.mode !== 'navigate' || request.destination !== 'document') return undefined;
      if (request.headers.has(VIA_HEADER)) return undefined;
      if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX) || url.searchParams.has(BADGE_QUERY_PARAM)) return undefined;
      const previous = pending.get(url.href);
      if (!previous && pending.size >= MAX_PENDING) return undefined;
      const controller = new AbortController();
      const result = run(controller.signal);
      keep(url.href, result, controller);
      return result.catch(() => undefined);
    },
    adopt(href: string, result: Promise<Obtained>): void {
      keep(href, result, new AbortController());
    },
    take(request: Request, url: URL): Promise<Obtained> | undefined {
      if (request.method !== 'GET' || request.mode !== 'navigate' || (request.destination !== 'iframe' && request.destination !== 'frame')) return undefined;
      const entry = pending.get(url.href);
      if (!entry) return undefined;
      pending.delete(url.href);
      clearTimeout(entry.timer);
      return entry.result;
    },
  };
}

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

function createShellCopy(kv: KvStore, origin: string, fetchFn: typeof fetch) {
  let copy: Stored | undefined;
  /** Bumped by every change: a load that finishes after one must not bring back what it replaced. */
  let version = 0;
  let inFlight: Promise<void> | undefined;

  kv.get<unknown>(COPY_KEY).then(
    (v) => {
      if (version === 0 && validStored(v)) copy = v;
    },
    () => undefined,
  );

  const keep = async (next: Stored | undefined): Promise<void> => {
    version += 1;
    copy = next;
    // Lost on a failed write: the copy then lasts as long as this SW instance.
    await kv.put(COPY_KEY, next ?? null).catch(() => undefined);
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
    /** The copy as a new Response for a navigation, or undefined when none is at hand. */
    response(): Response | undefined {
      if (!copy) return undefined;
      // A constructed Response has no URL of its own: the document keeps the navigation's URL.
      return new Response(copy.html, {
        status: 200,
        headers: { 'content-type': copy.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', [SHELL_HEADER]: '1' },
      });
    },
    /** Fetches the current shell and keeps it, or forgets the copy; one fetch at a time. Never rejects. */
    refresh(): Promise<void> {
      inFlight ??= fetchShell().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    clear: () => keep(undefined),
  };
}
