/**
 * Hands a large ArrayBuffer / typed-array request body — fetch() or
 * XMLHttpRequest.send() — to the browser as a Blob. Chromium copies a
 * BufferSource body of a request its Service Worker intercepts on the
 * renderer's main thread — measured here for 16 MiB: the call itself blocks
 * 110–520 ms, then the thread stalls another 0.5–1.2 s — and that thread is
 * the shell's too, which then cannot accept the request (the SW waits,
 * docs/browser-client.md) nor feed the data channel. A Blob of the same
 * bytes costs one copy (15–65 ms) and the browser moves it off the main
 * thread. The request is the same: same bytes, no Content-Type unless the
 * app set one, the body taken at the call.
 */
import { BLOB_BODY_MIN_BYTES, WINGMAN_PREFIX } from '../shared/constants';

/** SharedArrayBuffer is absent without cross-origin isolation; a stand-in class keeps `instanceof` safe. */
const SharedArrayBufferCtor: { new (n: number): object } = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : class {};

/** The body as a Blob when it is a large BufferSource (not over shared memory, which the browser refuses itself); else undefined. */
function asBlob(body: unknown): Blob | undefined {
  const view = ArrayBuffer.isView(body) ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : undefined;
  if (!view || view.byteLength < BLOB_BODY_MIN_BYTES || view.buffer instanceof SharedArrayBufferCtor) return undefined;
  return new Blob([view as ArrayBufferView<ArrayBuffer>]);
}

/** Only what the Service Worker carries: other requests never meet the shell. */
function carriedBySw(url: string | URL): boolean {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin && !u.pathname.startsWith(WINGMAN_PREFIX);
  } catch {
    return false;
  }
}

export function patchBinaryBodies(): void {
  if (typeof Blob !== 'function') return;
  const nativeFetch = window.fetch;
  if (typeof nativeFetch === 'function') {
    window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const blob = init ? asBlob(init.body) : undefined;
      if (!blob || !carriedBySw(input instanceof Request ? input.url : input)) return nativeFetch.call(this, input, init);
      return nativeFetch.call(this, input, { ...init, body: blob });
    };
  }
  const Xhr = window.XMLHttpRequest;
  if (typeof Xhr !== 'function') return;
  const urls = new WeakMap<XMLHttpRequest, string | URL>();
  const open = Xhr.prototype.open as (this: XMLHttpRequest, ...args: unknown[]) => void;
  const send = Xhr.prototype.send;
  Xhr.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]) {
    urls.set(this, args[1] as string | URL);
    return open.apply(this, args);
  };
  Xhr.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const url = urls.get(this);
    const blob = url !== undefined && carriedBySw(url) ? asBlob(body) : undefined;
    return send.call(this, blob ?? body);
  };
}
