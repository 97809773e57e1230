/**
 * The relay path: the Service Worker fetches the request from the tunnel
 * server itself, marked VIA_HEADER so the server relays it (never the shell)
 * and bridges cookies: the SW's jar goes in SW_COOKIE_HEADER, Set-Cookie
 * comes back in SW_SET_COOKIE_HEADER and redirects as 200 + SW_STATUS_HEADER
 * (tunnel-server browser/cookie-bridge.ts is the other half).
 */
import type { RouteReason } from './route-decision';
import { carriedMetadata } from './fetch-metadata';
import {
  ABORT_ID_HEADER,
  BODY_BYTES_HEADER,
  FETCH_METADATA_HEADER,
  ROUTE_HEADER,
  SW_COOKIE_HEADER,
  SW_COOKIE_MERGE_HEADER,
  VIA_HEADER,
  VIA_SW,
} from '../shared/constants';

export interface RelayOptions {
  /**
   * The SW jar's cookies the browser's own jar lacks ('' for none;
   * SwCookies.relayHeaderFor): merged by the tunnel server with the Cookie
   * header the browser puts on this fetch (SW_COOKIE_MERGE_HEADER).
   */
  cookie: string;
  /** Request body bytes (read before the request went anywhere), or null. */
  body: ArrayBuffer | null;
  /** Extra request headers (resumption: Range, If-Range). */
  extraHeaders?: Array<[string, string]>;
  /** Fetch without the original request's Range header (resumption sets its own). */
  dropRange?: boolean;
  /** Why the request goes over the relay (route-decision.ts); the agent echoes it on the response. */
  route: RouteReason;
  /** The Origin the browser would have written and the SW's fetch cannot (a WebKit redirect's follow-up, redirect-follow-ups.ts). */
  origin?: string;
  /** Aborts the fetch (request.signal combined with the shim's abort). Default request.signal. */
  signal?: AbortSignal;
}

/**
 * Fetches `request` through the tunnel server. A navigation is fetched with
 * redirect "manual" (its opaque redirect may be returned as is, should the
 * server not bridge redirects); other requests keep their redirect mode.
 */
export function relayFetch(request: Request, options: RelayOptions): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set(VIA_HEADER, VIA_SW);
  headers.delete(ABORT_ID_HEADER);
  headers.delete(BODY_BYTES_HEADER);
  headers.set(SW_COOKIE_MERGE_HEADER, '1');
  headers.set(ROUTE_HEADER, options.route);
  // The forbidden fields this fetch loses (fetch-metadata.ts); the agent restores them.
  headers.set(FETCH_METADATA_HEADER, JSON.stringify([...carriedMetadata(request), ...(options.origin ? [['origin', options.origin]] : [])]));
  if (options.cookie) headers.set(SW_COOKIE_HEADER, options.cookie);
  if (options.dropRange) {
    headers.delete('range');
    headers.delete('if-range');
  }
  for (const [n, v] of options.extraHeaders ?? []) headers.set(n, v);
  const navigation = request.mode === 'navigate';
  // Only the frame prefetch fetches a top-level navigation's URL (frame-prefetch.ts). Not through the
  // HTTP cache: the browser's own request for that navigation (the shell), same URL, would wait on
  // the cache entry's lock until this one's head came back from the app.
  const prefetch = navigation && request.destination === 'document';
  const init: RequestInit = {
    method: request.method,
    headers,
    // Streaming request bodies need HTTP/2 in Chromium; the relay may be HTTP/1.1, so the body goes as bytes.
    body: options.body,
    redirect: navigation ? 'manual' : request.redirect,
    credentials: 'same-origin',
    mode: 'same-origin',
    cache: prefetch ? 'no-store' : request.cache === 'only-if-cached' ? 'default' : request.cache,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
    signal: options.signal ?? request.signal,
  };
  if (request.integrity) init.integrity = request.integrity;
  return fetch(request.url, init);
}
