/**
 * Which requests get the shell page instead of the app. Only a browser's own top-level navigation does (Fetch
 * Metadata: mode `navigate`, destination `document`); curl and scripts send no Sec-Fetch-* headers, frame navigations
 * say `iframe`, and the Service Worker's relay fetches carry VIA_HEADER — all of those get the app, relayed
 * unchanged.
 * @see https://www.w3.org/TR/fetch-metadata/
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RESERVED_PREFIX, VIA_HEADER } from '@wingman/protocol';

/** The part of a Node IncomingMessage (or express Request) this looks at. */
interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
}

function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * True for a browser's top-level navigation to an app path: answer it with renderShell() when the session has P2P
 * enabled. Browsers without Fetch Metadata (Safari < 16.4) never get the shell and simply use the relay.
 */
export function isBootstrapNavigation(req: RequestLike): boolean {
  if (req.method !== 'GET') return false;
  if ((req.url ?? '/').startsWith(RESERVED_PREFIX)) return false;
  if (header(req, VIA_HEADER) !== undefined) return false;
  return header(req, 'sec-fetch-mode') === 'navigate' && header(req, 'sec-fetch-dest') === 'document';
}
