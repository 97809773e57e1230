/**
 * A streaming upload (`fetch(url, { body: ReadableStream, duplex: 'half' })`)
 * on an `http:` origin fails as it would without Wingman. Chromium streams a
 * request body only over HTTP/2 or HTTP/3, and a browser speaks HTTP/1.1 to
 * every `http:` origin (no cleartext HTTP/2), so its fetch rejects with a
 * TypeError — directly against the app, and through the tunnel server's
 * relay. Only the Service Worker, reading the stream itself, could carry it
 * (over P2P, or read whole for the relay), and the app would get a request
 * the page never could have sent. On `https:` the browser may stream (HTTP/2)
 * and the SW carries the stream. Engines without streaming uploads (the
 * feature test of the Fetch standard's `duplex` option) are left alone:
 * Firefox sends the stream's string form, WebKit refuses it itself.
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
