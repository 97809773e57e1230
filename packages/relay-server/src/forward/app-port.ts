/**
 * The app's own port and the tunnel's loopback routes on its HTML responses,
 * for the page's shim: dev servers' scripts build URLs from their port (Hugo's
 * `ws://<host>:1313/livereload`), which the reviewer's browser cannot reach.
 */
import { APP_PORT_HEADER, APP_ROUTES_HEADER, type HeaderList } from '@wingman/protocol';
import { isLoopbackHost } from '../loopback-host';
import type { RouteSpec } from './routes';

/** APP_ROUTES_HEADER's value: each route whose app listens on loopback, as `<prefix>=<port>`; undefined when there is none. */
export function appRoutesValue(routes: readonly RouteSpec[]): string | undefined {
  const local = routes.filter((r) => isLoopbackHost(r.target.host)).map((r) => `${r.prefix}=${r.target.port}`);
  return local.length > 0 ? local.join(' ') : undefined;
}

/** `headers` of an HTML response with the app's port and, when given, the loopback routes (appRoutesValue). */
export function withAppPort(headers: HeaderList, port: number, routes?: string): HeaderList {
  const html = /^\s*text\/html\b/i.test(headers.find(([n]) => n === 'content-type')?.[1] ?? '');
  if (!html) return headers;
  const out: HeaderList = [...headers.filter(([n]) => n !== APP_PORT_HEADER && n !== APP_ROUTES_HEADER), [APP_PORT_HEADER, String(port)]];
  return routes === undefined ? out : [...out, [APP_ROUTES_HEADER, routes]];
}
