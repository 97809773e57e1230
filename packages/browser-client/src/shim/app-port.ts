/**
 * URLs the app's scripts build from the dev server's own port, carried to the
 * session. Behind Wingman the page's host is the session's, so a live-reload
 * client that connects to `ws://<page host>:1313/livereload` (Hugo's
 * `livereload.js?port=1313`) or a script that fetches
 * `http://localhost:1313/…` aims at a port the reviewer's machine has nothing
 * on. The agent names the app's port on its HTML (APP_PORT_HEADER), the
 * Service Worker puts it on the shim's tag (`data-app-port`), and a WebSocket
 * or fetch() URL of that port, on the page's host or a loopback name, moves
 * to the page's own origin, where it is carried as any other.
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
    if (!(input instanceof Request) && URL.canParse(String(input), location.href)) {
      const url = new URL(String(input), location.href);
      if (moveToSession(url, appPort)) input = url.href;
    }
    return nativeFetch.call(this, input, init);
  };
}
