/**
 * A large BufferSource request body handed to the browser as a Blob: Chromium copies one on the renderer's
 * main thread (16 MiB: up to 1.7 s of stall), a Blob costs one copy off it. A known bulk size also gets
 * BODY_BYTES_HEADER, so the Service Worker sends it as bulk.
 */
import { BLOB_BODY_MIN_BYTES, BODY_BYTES_HEADER, BULK_MIN_BYTES, WINGMAN_PREFIX } from '../shared/constants';
import { SharedArrayBufferCtor } from '../shared/port-body';
import { parseUrl } from '../shared/baseline';

/** The body as a Blob when it is a large BufferSource (not over shared memory, which the browser refuses itself); else undefined. */
function asBlob(body: unknown): Blob | undefined {
  const view = ArrayBuffer.isView(body) ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : undefined;
  if (!view || view.byteLength < BLOB_BODY_MIN_BYTES || view.buffer instanceof SharedArrayBufferCtor) return undefined;
  return new Blob([view as ArrayBufferView<ArrayBuffer>]);
}

/** The body's size in bytes, at least, when it can be told without reading it (a string's UTF-16 length: its UTF-8 bytes are as many or more); else 0. */
function sizeOf(body: unknown): number {
  if (typeof body === 'string') return body.length;
  if (body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

/** Only what the Service Worker carries: other requests never meet the shell. */
export function carriedBySw(url: string | URL): boolean {
  const u = parseUrl(url, location.href);
  return u !== null && u.origin === location.origin && !u.pathname.startsWith(WINGMAN_PREFIX);
}

export function patchBinaryBodies(): void {
  if (typeof Blob !== 'function') return;
  const nativeFetch = window.fetch;
  if (typeof nativeFetch === 'function') {
    window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const size = init ? sizeOf(init.body) : 0;
      if (size < BLOB_BODY_MIN_BYTES || !carriedBySw(input instanceof Request ? input.url : input)) return nativeFetch.call(this, input, init);
      const patched: RequestInit = { ...init, body: asBlob(init!.body) ?? init!.body };
      if (size >= BULK_MIN_BYTES) {
        const headers = new Headers(init!.headers ?? (input instanceof Request ? input.headers : undefined));
        headers.set(BODY_BYTES_HEADER, String(size));
        patched.headers = headers;
      }
      return nativeFetch.call(this, input, patched);
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
    if (url === undefined || !carriedBySw(url)) return send.call(this, body);
    const size = sizeOf(body);
    if (size >= BULK_MIN_BYTES) this.setRequestHeader(BODY_BYTES_HEADER, String(size));
    return send.call(this, asBlob(body) ?? body);
  };
}
