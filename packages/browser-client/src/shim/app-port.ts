/**
 * URLs the app's scripts aim at a local port of this link's apps (a dev server's live reload, a route's
 * `http://localhost:5001/api`), moved to the page's own origin for fetch, XHR, EventSource and WebSocket.
 * docs/browser-client.md §Ports in the page.
 */
import { parseUrl } from '../shared/baseline';
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The app's port, and each route's prefix and port (`/api=5001 /ws=5002`, the agent's APP_ROUTES_HEADER). */
interface PortTable {
  appPort: string | undefined;
  routes: ReadonlyArray<readonly [prefix: string, port: string]>;
}

export function portTable(appPort: string | undefined, routes: string | null | undefined): PortTable {
  const pairs = (routes ?? '').split(' ').filter(Boolean);
  return { appPort, routes: pairs.map((p) => [p.slice(0, p.lastIndexOf('=')), p.slice(p.lastIndexOf('=') + 1)] as const) };
}

/** The port of the route the session serves `path` from (the longest prefix), if any. */
function routePort(path: string, routes: PortTable['routes']): string | undefined {
  let best: PortTable['routes'][number] | undefined;
  for (const r of routes) if ((path === r[0] || path.startsWith(`${r[0]}/`)) && r[0].length > (best?.[0].length ?? -1)) best = r;
  return best?.[1];
}

/**
 * Moves `url` to the page's origin (ws/wss kept) when it names, on the page's
 * host or a loopback name, the app's port, or the port of the route the
 * session serves its path from; says whether it did.
 */
export function moveToSession(url: URL, table: PortTable): boolean {
  if (url.host === location.host || !(url.hostname === location.hostname || LOOPBACK_NAMES.has(url.hostname))) return false;
  if (url.port !== table.appPort && url.port !== routePort(url.pathname, table.routes)) return false;
  url.protocol = url.protocol === 'ws:' || url.protocol === 'wss:' ? location.protocol.replace('http', 'ws') : location.protocol;
  url.host = location.host;
  return true;
}

/** `input` moved (moveToSession), or as given. */
function moved(input: string | URL, table: PortTable): string | URL {
  const url = parseUrl(String(input), document.baseURI);
  return url && moveToSession(url, table) ? url.href : input;
}

/** `req` at `href` (a Request's URL is fixed): a copy, its body read whole, as a Request's body is known up front. */
async function movedRequest(req: Request, href: string): Promise<Request> {
  const body = req.method === 'GET' || req.method === 'HEAD' ? null : await req.blob();
  const { method, headers, mode, credentials, cache, redirect, referrer, referrerPolicy, integrity, keepalive, signal } = req;
  return new Request(href, { method, headers, body, mode, credentials, cache, redirect, referrer, referrerPolicy, integrity, keepalive, signal });
}

/** The app's fetch() (a string, URL or Request), XMLHttpRequest.open() and EventSource to these ports go to the session. */
export function patchAppPorts(table: PortTable): void {
  const { fetch: nativeFetch, EventSource: NativeEventSource } = window;
  window.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    if (!(input instanceof Request)) return nativeFetch.call(this, moved(input, table), init);
    const url = moved(input.url, table);
    return url === input.url ? nativeFetch.call(this, input, init) : movedRequest(input, String(url)).then((req) => nativeFetch.call(this, req, init));
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    Reflect.apply(open, this, [method, moved(url, table), ...rest]);
  };
  window.EventSource = class EventSource extends NativeEventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(moved(url, table), init);
    }
  };
}
