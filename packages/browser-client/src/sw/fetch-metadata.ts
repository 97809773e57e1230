/**
 * Request fields the browser's network layer adds, which a Service Worker never sees nor sets (Sec-Fetch-*,
 * client hints, the cache mode's, Accept-Language): written into the P2P head, or carried in
 * FETCH_METADATA_HEADER over the relay. docs/browser-client.md §Fidelity.
 */
import type { WireHeaders } from '../shared/messages';

/**
 * Sec-Fetch-* of a request from the app's own documents (same origin: the
 * SW handles nothing else).
 * @see https://www.w3.org/TR/fetch-metadata/
 */
export function fetchMetadata(request: Request): WireHeaders {
  return [
    ['sec-fetch-site', 'same-origin'],
    ['sec-fetch-mode', request.mode],
    ['sec-fetch-dest', request.destination || 'empty'],
  ];
}

/** The forbidden fields the relay's fetch loses: the client hints the request shows, then Sec-Fetch-*. */
export function carriedMetadata(request: Request): WireHeaders {
  return [...[...request.headers].filter(([name]) => name.startsWith('sec-ch-')), ...fetchMetadata(request)];
}

/**
 * The fields Chromium's network stack adds for a fetch's cache mode
 * (net::LOAD_VALIDATE_CACHE → max-age=0; LOAD_BYPASS_CACHE → no-cache).
 * @see https://fetch.spec.whatwg.org/#http-network-or-cache-fetch (steps on "no-cache" and "no-store"/"reload")
 */
export function cacheModeHeaders(request: Request): WireHeaders {
  if (request.headers.has('cache-control')) return [];
  if (request.cache === 'no-cache') return [['cache-control', 'max-age=0']];
  if (request.cache === 'no-store' || request.cache === 'reload') {
    return request.headers.has('pragma')
      ? [['cache-control', 'no-cache']]
      : [
          ['pragma', 'no-cache'],
          ['cache-control', 'no-cache'],
        ];
  }
  return [];
}
