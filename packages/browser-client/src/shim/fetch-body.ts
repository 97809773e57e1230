/**
 * Hands a large ArrayBuffer / typed-array fetch() body to the browser as a
 * Blob. Chromium copies a BufferSource body of a request its Service Worker
 * intercepts on the renderer's main thread — measured here for 16 MiB:
 * fetch() itself blocks 180–520 ms, then the thread stalls another
 * 0.8–1.1 s — and that thread is the shell's too, which then cannot accept
 * the request (the SW waits, docs/browser-client.md) nor feed the data
 * channel. A Blob of the same bytes costs one copy (15–65 ms) and the browser
 * moves it off the main thread. The request is the same: same bytes, no
 * Content-Type either way, the body taken at the call as fetch() does.
 */
import { FETCH_BLOB_BODY_MIN_BYTES, WINGMAN_PREFIX } from '../shared/constants';

/** SharedArrayBuffer is absent without cross-origin isolation; a stand-in class keeps `instanceof` safe. */
const SharedArrayBufferCtor: { new (n: number): object } = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : class {};

/** The body as a Blob when it is a large BufferSource (not over shared memory, which fetch() refuses itself); else undefined. */
function asBlob(body: unknown): Blob | undefined {
  const view = ArrayBuffer.isView(body) ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : undefined;
  if (!view || view.byteLength < FETCH_BLOB_BODY_MIN_BYTES || view.buffer instanceof SharedArrayBufferCtor) return undefined;
  return new Blob([view as ArrayBufferView<ArrayBuffer>]);
}

export function patchFetchBody(): void {
  const nativeFetch = window.fetch;
  if (typeof nativeFetch !== 'function' || typeof Blob !== 'function') return;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const blob = init ? asBlob(init.body) : undefined;
    if (!blob) return nativeFetch.call(this, input, init);
    try {
      const url = new URL(input instanceof Request ? input.url : String(input), location.href);
      // Only what the Service Worker carries (other requests never meet the shell).
      if (url.origin !== location.origin || url.pathname.startsWith(WINGMAN_PREFIX)) return nativeFetch.call(this, input, init);
    } catch {
      return nativeFetch.call(this, input, init);
    }
    return nativeFetch.call(this, input, { ...init, body: blob });
  };
}
