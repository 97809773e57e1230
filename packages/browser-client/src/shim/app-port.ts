/**
 * URLs the app's scripts build from the dev server's own port (Hugo's live
 * reload: `ws://<page host>:1313/livereload`), which behind Wingman aim at
 * nothing, moved to the page's own origin (docs/browser-client.md §Ports in
 * the page). The port comes on the shim's tag (`data-app-port`).
 */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Moves `url` to the page's origin (ws/wss kept) when it names the app's port on the page's host or a loopback name; says whether it did. */
export function moveToSession(url: URL, appPort: string): boolean {
  if (url.port !== appPort || url.host === location.host || !(url.hostname === location.hostname || LOOPBACK_NAMES.has(url.hostname))) return false;
  url.protocol = url.protocol === 'ws:' || url.protocol === 'wss:' ? location.protocol.replace('http', 'ws') : location.protocol;
  url.host = location.host;
  return true;
}

/** The app's fetch() calls (a string or URL) to its own port go to the session. */
export function patchFetchAppPort(appPort: string): void {
  const nativeFetch = window.fetch;
  if (typeof nativeFetch !== 'function') return;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = input instanceof Request ? null : URL.parse(String(input), location.href);
    return nativeFetch.call(this, url && moveToSession(url, appPort) ? url.href : input, init);
  };
}
