/**
 * Makes the app's fetch() aborts reach the Service Worker before a response exists: Chromium never aborts
 * FetchEvent.request.signal (w3c/ServiceWorker#1544), so a request the app gave up on would go on to the app
 * server. Same-origin fetches with an AbortSignal get ABORT_ID_HEADER; on abort the id goes to the SW
 * (`wingman:abort`). After the head, an abort cancels the response body, which the SW sees.
 */
import { ABORT_ID_HEADER } from '../shared/constants';
import type { AbortNotice } from '../shared/messages';
import { carriedBySw } from './binary-body';

let counter = 0;
const prefix = Math.random().toString(36).slice(2, 10);

export function patchFetchAbort(): void {
  const nativeFetch = window.fetch;
  const sw = navigator.serviceWorker;
  if (typeof nativeFetch !== 'function' || !sw) return;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (!signal || signal.aborted || !sw.controller || !carriedBySw(input instanceof Request ? input.url : input)) return nativeFetch.call(this, input, init);
    const id = `${prefix}-${++counter}`;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set(ABORT_ID_HEADER, id);
    const onAbort = () => sw.controller?.postMessage({ type: 'wingman:abort', id } satisfies AbortNotice);
    signal.addEventListener('abort', onAbort, { once: true });
    const forget = () => signal.removeEventListener('abort', onAbort);
    const p = nativeFetch.call(this, input, { ...init, headers });
    p.then(forget, forget);
    return p;
  };
}
