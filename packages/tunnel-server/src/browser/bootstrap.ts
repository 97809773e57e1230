/**
 * Which requests get the shell page instead of the app. Only a browser's own top-level navigation does (Fetch
 * Metadata: mode `navigate`, destination `document`); curl and scripts send no Sec-Fetch-* headers, frame navigations
 * say `iframe`, and the Service Worker's relay fetches carry VIA_HEADER — all of those get the app, relayed
 * unchanged.
 * @see https://www.w3.org/TR/fetch-metadata/
 */
import type { IncomingMessage } from 'node:http';
import { RESERVED_PREFIX, VIA_HEADER } from '@wingman/protocol';
import { isNavigation } from '../http/is-navigation';

/**
 * True for a browser's top-level navigation to an app path: answer it with renderShell() when the session has P2P
 * enabled. Browsers without Fetch Metadata (Safari < 16.4) never get the shell and simply use the relay.
 */
export function isBootstrapNavigation(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): boolean {
  if (req.method !== 'GET') return false;
  if ((req.url ?? '/').startsWith(RESERVED_PREFIX)) return false;
  if (req.headers[VIA_HEADER] !== undefined) return false;
  return isNavigation(req.headers, 'document');
}
