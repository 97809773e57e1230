/**
 * A first visit's app document, which the shell fetched while the Service
 * Worker installed (page/shell-inline.ts), taken by the frame's navigation
 * instead of a second GET of the same URL: docs/browser-client.md §Decision:
 * a long-lived shell. Used once, dropped after EARLY_DOCUMENT_TTL_MS; the
 * response rules apply for the frame's request.
 */
import { RESPONSE_HEAD_TIMEOUT_MS, WINGMAN_PREFIX } from '../shared/constants';
import { parseEarlyDocumentAnswer, type EarlyDocumentAnswer } from '../shared/messages';
import type { SwCookies } from './cookies';
import type { Obtained } from './build-response';
import { settleWithin } from '../shared/settle-within';

/** How long an unclaimed document is kept. The frame's navigation follows the SW's ack at once; 10 s covers a slow machine. */
const EARLY_DOCUMENT_TTL_MS = 10_000;
/** Documents kept at once (one per tab on its first visit at the same moment is the normal case). */
const MAX_PENDING = 8;

export type EarlyDocuments = ReturnType<typeof createEarlyDocuments>;

export function createEarlyDocuments(origin: string, cookies: Pick<SwCookies, 'relayHeaderFor'>) {
  const pending = new Map<string, Entry>();
  return {
    /** A first visit's app document that the shell fetched while the SW installed, coming on `port` (`wingman:early-doc`). */
    adopt(url: URL, port: MessagePort): void {
      const result = earlyDocument(url, port, origin, cookies);
      const previous = pending.get(url.href);
      pending.delete(url.href);
      if (previous) discard(previous);
      if (pending.size >= MAX_PENDING) return discard({ result, timer: undefined });
      const entry: Entry = {
        result,
        timer: setTimeout(() => {
          if (pending.get(url.href) === entry) pending.delete(url.href);
          discard(entry);
        }, EARLY_DOCUMENT_TTL_MS),
      };
      pending.set(url.href, entry);
    },
    /**
     * A top-level navigation: a new shell, whose frame has no early document of its own. What earlier shells
     * adopted goes (a frame that started without the SW, past its wait, never took its own): taken by the new
     * shell's frame, a stale document and its cookies would replace the jar's.
     */
    forgetAll(): void {
      for (const entry of pending.values()) discard(entry);
      pending.clear();
    },
    /** A frame navigation's early document, once; undefined when there is none. */
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

/**
 * The shell's early fetch as the relay's answer to the frame's navigation,
 * only when the jar holds nothing the browser's lacks for that URL (the fetch
 * then carried the cookies the SW's relay fetch would have).
 */
function earlyDocument(url: URL, port: MessagePort, origin: string, cookies: Pick<SwCookies, 'relayHeaderFor'>): Promise<Extract<Obtained, { kind: 'relay' }>> {
  const answer = settleWithin<EarlyDocumentAnswer | undefined>(RESPONSE_HEAD_TIMEOUT_MS, undefined, (settle) => {
    port.onmessage = (ev: MessageEvent) => settle(parseEarlyDocumentAnswer(ev.data));
    return () => port.close();
  });
  return answer.then(async (a) => {
    if (!a) throw new Error("the shell's early fetch brought no document");
    try {
      if (url.origin !== origin || url.pathname.startsWith(WINGMAN_PREFIX)) throw new Error('not an app URL');
      if ((await cookies.relayHeaderFor(url, { crossSite: false, safeTopLevelNavigation: true })) !== '')
        throw new Error("the SW's jar has cookies the shell's fetch lacked");
      return { kind: 'relay', res: new Response(a.body, { status: a.status, headers: a.headers }) };
    } catch (err) {
      if (a.body instanceof ReadableStream) void a.body.cancel().catch(() => undefined);
      throw err;
    }
  });
}

interface Entry {
  result: ReturnType<typeof earlyDocument>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Drops a document nobody will read: releases its body. */
function discard(entry: Entry): void {
  clearTimeout(entry.timer);
  void entry.result.then(
    (o) => void o.res.body?.cancel().catch(() => undefined),
    () => undefined,
  );
}
