/**
 * The app's own port on its HTML responses (APP_PORT_HEADER), and the
 * tunnel's loopback routes (APP_ROUTES_HEADER), for the page's shim: a dev
 * server's scripts build URLs from its port (Hugo's live reload asks for
 * `ws://<page host>:1313/livereload`), a front end calls its API on the
 * API's (`http://localhost:5001/api/items`); the reviewer's browser can
 * reach neither, so the shim carries them to the session instead.
 */
import { APP_PORT_HEADER, APP_ROUTES_HEADER, type HeaderList } from '@wingman/protocol';
import { isLoopback } from './app-urls';
import type { RouteSpec } from './routes';

/** APP_ROUTES_HEADER's value: each route whose app listens on loopback, as `<prefix>=<port>`; undefined when there is none. */
export function appRoutesValue(routes: readonly RouteSpec[]): string | undefined {
  const local = routes
    .filter((r) => isLoopback(r.target.host.includes(':') ? `[${r.target.host.toLowerCase()}]` : r.target.host.toLowerCase()))
    .map((r) => `${r.prefix}=${r.target.port}`);
  return local.length > 0 ? local.join(' ') : undefined;
}

/** `headers` of an HTML response with the app's port and, when given, the loopback routes (appRoutesValue). */
export function withAppPort(headers: HeaderList, port: number, routes?: string): HeaderList {
  const html = /^\s*text\/html\b/i.test(headers.find(([n]) => n === 'content-type')?.[1] ?? '');
  if (!html) return headers;
  const out: HeaderList = [...headers.filter(([n]) => n !== APP_PORT_HEADER && n !== APP_ROUTES_HEADER), [APP_PORT_HEADER, String(port)]];
  return routes === undefined ? out : [...out, [APP_ROUTES_HEADER, routes]];
}
