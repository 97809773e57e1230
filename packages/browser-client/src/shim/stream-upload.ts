/**
 * A streaming upload on an `http:` origin fails as it would without Wingman: Chromium streams request
 * bodies only over HTTP/2+, so only the SW could carry it, which the page never could have sent
 * (docs/browser-client.md §Fidelity). Engines without streaming uploads are left alone.
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
