/**
 * The documents the shell's app frame receives, as Chromium reports their
 * responses: whether the Service Worker answered, and the path that carried
 * each (x-wingman-transport) with the Service Worker's reason for it
 * (x-wingman-route). What a test reads to tell that a navigation in the
 * frame (a live reload, a link) went over P2P.
 */
import type { Page } from 'playwright-core';
import { ROUTE_HEADER, TRANSPORT_HEADER } from '@wingman/protocol';

export interface FrameDocument {
  url: string;
  fromServiceWorker: boolean;
  transport: string | null;
  route: string | null;
}

/** The app frame's document responses from now on, in the order they came. */
export function recordFrameDocuments(page: Page): FrameDocument[] {
  const docs: FrameDocument[] = [];
  page.on('response', (res) => {
    if (!res.request().isNavigationRequest() || res.frame() === page.mainFrame()) return;
    const headers = res.headers();
    docs.push({
      url: res.url(),
      fromServiceWorker: res.fromServiceWorker(),
      transport: headers[TRANSPORT_HEADER] ?? null,
      route: headers[ROUTE_HEADER] ?? null,
    });
  });
  return docs;
}
