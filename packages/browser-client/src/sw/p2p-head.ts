/**
 * The request head as it goes over P2P: what the browser would have sent,
 * as far as a Service Worker can know it (docs/browser-client.md §Service
 * Worker: routing one request).
 */
import { EXCHANGE_HEADER, ROUTE_HEADER } from '@wingman/protocol';
import { acceptLanguage } from '../shared/accept-language';
import type { WireHeaders } from '../shared/messages';
import { AGENT_TIME_ASKED } from './agent-time';
import { canDecode } from './build-response';
import { cacheModeHeaders, fetchMetadata } from './fetch-metadata';
import type { RouteReason } from './route-decision';

export function p2pHead(
  request: Request,
  url: URL,
  cookie: string,
  reason: RouteReason,
  contentLength: number | undefined,
  followUpOrigin: string | undefined,
  /** The exchange's id, for a request the SW may send again over the relay (exchange-id.ts). */
  exchange?: string,
): { method: string; target: string; headers: WireHeaders } {
  const headers: WireHeaders = [
    ['host', url.host],
    ...[...request.headers].filter(([name]) => name !== 'host' && name !== 'cookie' && !name.startsWith('x-wingman-')),
  ];
  if (cookie) headers.push(['cookie', cookie]);
  if (request.referrer && request.referrer !== 'about:client') headers.push(['referer', request.referrer]);
  const method = request.method.toUpperCase();
  // Browsers send Origin with same-origin requests other than GET/HEAD (Fetch §3.1); CSRF checks rely on it.
  // Where the browser shows it to the SW (Chromium's form navigations do), it is already in the list above.
  if (method !== 'GET' && method !== 'HEAD' && !request.headers.has('origin')) headers.push(['origin', url.origin]);
  // WebKit keeps it on a redirect's follow-up turned into GET (redirect-follow-ups.ts).
  else if (followUpOrigin && !request.headers.has('origin')) headers.push(['origin', followUpOrigin]);
  if (contentLength !== undefined) headers.push(['content-length', String(contentLength)]);
  if (!request.headers.has('user-agent')) headers.push(['user-agent', navigator.userAgent]);
  const languages = request.headers.has('accept-language') ? undefined : acceptLanguage(navigator.languages ?? []);
  if (languages) headers.push(['accept-language', languages]);
  headers.push(...cacheModeHeaders(request));
  headers.push(['accept-encoding', canDecode('gzip') ? 'gzip, deflate' : 'identity']);
  headers.push(...fetchMetadata(request));
  headers.push([ROUTE_HEADER, reason]);
  if (exchange !== undefined) headers.push([EXCHANGE_HEADER, exchange]);
  // The agent's own time comes back with the head, to leave out of the path's time (agent-time.ts).
  headers.push(AGENT_TIME_ASKED);
  return { method, target: url.pathname + url.search, headers };
}
