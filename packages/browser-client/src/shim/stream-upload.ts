/**
 * A streaming upload (`fetch(url, { body: ReadableStream, duplex: 'half' })`)
 * on an `http:` origin fails as it would without Wingman: Chromium streams a
 * request body only over HTTP/2+, which no `http:` origin gets, and only the
 * Service Worker, reading the stream itself, could carry it — a request the
 * page never could have sent (docs/browser-client.md §Fidelity). Engines
 * without streaming uploads (the Fetch standard's `duplex` feature test) are
 * left alone.
 */
import { carriedBySw } from './binary-body';

function streamsUploads(): boolean {
  try {
    let duplexRead = false;
    const typed = new Request(location.href, {
      method: 'POST',
      body: new ReadableStream(),
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    } as RequestInit).headers.has('content-type');
    return duplexRead && !typed;
  } catch {
    return false;
  }
}

export function patchStreamUploads(): void {
  const nativeFetch = window.fetch;
  if (typeof nativeFetch !== 'function' || location.protocol !== 'http:' || typeof ReadableStream !== 'function' || !streamsUploads()) return;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    if (init?.body instanceof ReadableStream && carriedBySw(input instanceof Request ? input.url : input)) {
      // Chromium's own words for a fetch that failed in the network layer.
      return Promise.reject(new TypeError('Failed to fetch'));
    }
    return nativeFetch.call(this, input, init);
  };
}
