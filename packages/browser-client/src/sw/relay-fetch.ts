/**
 * The relay path: the Service Worker fetches the request from the tunnel
 * server itself, marked VIA_HEADER so the server relays it (never the shell)
 * and bridges cookies: the SW's jar goes in SW_COOKIE_HEADER, Set-Cookie
 * comes back in SW_SET_COOKIE_HEADER and redirects as 200 + SW_STATUS_HEADER
 * (tunnel-server browser/cookie-bridge.ts is the other half).
 */
import { EXCHANGE_HEADER, FETCH_METADATA_HEADER, ROUTE_HEADER, SW_COOKIE_HEADER, SW_COOKIE_MERGE_HEADER, VIA_HEADER, VIA_SW } from '@wingman/protocol';
import type { RouteReason } from './route-decision';
import type { RequestContext } from '../shared/cookie-jar';
import { header, type WireHeaders } from '../shared/messages';
import type { SwCookies } from './cookies';
import { ChannelError } from './errors';
import { carriedMetadata } from './fetch-metadata';
import { skipBytes, type ResumeWhy } from './resumable-body';
import { sameBody } from './bulk-race';
import { incomingFromRelay } from './build-response';
import { ABORT_ID_HEADER, BODY_BYTES_HEADER } from '../shared/constants';

interface RelayOptions {
  /** The SW jar's cookies the browser's own jar lacks ('' for none), merged by the tunnel server with the browser's (SW_COOKIE_MERGE_HEADER). */
  cookie: string;
  /** Request body bytes (read before the request went anywhere), or null. */
  body: ArrayBuffer | null;
  /** Extra request headers (resumption: Range, If-Range). */
  extraHeaders?: Array<[string, string]>;
  /** Why the request goes over the relay (route-decision.ts); the agent echoes it on the response. */
  route: RouteReason;
  /** The Origin the browser would have written and the SW's fetch cannot (a WebKit redirect's follow-up, redirect-follow-ups.ts). */
  origin?: string;
  /** The P2P exchange this request is sent again for (exchange-id.ts): the agent forwards it only if that exchange never reached the app. */
  exchange?: string;
  /** Aborts the fetch (request.signal combined with the shim's abort). Default request.signal. */
  signal?: AbortSignal;
}

/** Fetches `request` through the tunnel server; a navigation with redirect "manual" (its opaque redirect may go back as is). */
export function relayFetch(request: Request, options: RelayOptions): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set(VIA_HEADER, VIA_SW);
  headers.delete(ABORT_ID_HEADER);
  headers.delete(BODY_BYTES_HEADER);
  headers.delete(EXCHANGE_HEADER);
  if (options.exchange !== undefined) headers.set(EXCHANGE_HEADER, options.exchange);
  headers.set(SW_COOKIE_MERGE_HEADER, '1');
  headers.set(ROUTE_HEADER, options.route);
  // The forbidden fields this fetch loses (fetch-metadata.ts); the agent restores them.
  headers.set(FETCH_METADATA_HEADER, JSON.stringify([...carriedMetadata(request), ...(options.origin ? [['origin', options.origin]] : [])]));
  if (options.cookie) headers.set(SW_COOKIE_HEADER, options.cookie);
  for (const [n, v] of options.extraHeaders ?? []) headers.set(n, v);
  const navigation = request.mode === 'navigate';
  const init: RequestInit = {
    method: request.method,
    headers,
    // Streaming request bodies need HTTP/2 in Chromium; the relay may be HTTP/1.1, so the body goes as bytes.
    body: options.body,
    redirect: navigation ? 'manual' : request.redirect,
    credentials: 'same-origin',
    mode: 'same-origin',
    cache: request.cache === 'only-if-cached' ? 'default' : request.cache,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
    signal: options.signal ?? request.signal,
  };
  if (request.integrity) init.integrity = request.integrity;
  return fetch(request.url, init);
}

/**
 * Fetches the rest of a GET from the relay, `offset` bytes in, after the channel failed or stalled mid-body:
 * Range (If-Range with a strong validator) where the 200 advertised byte ranges, else all, skipped. A stalled
 * body (`why`) is fetched whole only while less than half came, and taken only if the same (bulk-race.ts sameBody).
 */
export async function resumeViaRelay(
  request: Request,
  url: URL,
  first: { status: number; headers: WireHeaders },
  offset: number,
  cookies: SwCookies,
  context: RequestContext,
  why: ResumeWhy = 'channel-failed',
): Promise<ReadableStream<Uint8Array>> {
  const { status, headers } = first;
  const etag = header(headers, 'etag');
  const validator = etag && !etag.startsWith('W/') ? etag : header(headers, 'last-modified');
  const ranged = status === 200 && offset > 0 && header(headers, 'accept-ranges') === 'bytes' && !request.headers.has('range');
  const extraHeaders: Array<[string, string]> = ranged
    ? [['range', `bytes=${offset}-`], ...(validator ? [['if-range', validator] as [string, string]] : [])]
    : [];
  // A stalled body fetched again whole: worth it only while less than half of it has come.
  if (why === 'body-stalled' && !ranged && !(Number(header(headers, 'content-length')) >= 2 * offset))
    throw new ChannelError('ERR_CONNECTION_LOST', 'more than half of the stalled body came over the channel, which keeps it', false);
  const cookie = await cookies.relayHeaderFor(url, context);
  const res = await relayFetch(request, { cookie, body: null, extraHeaders, route: why });
  if (!res.body) throw new ChannelError('ERR_CONNECTION_LOST', 'the relay answered the resumption without a body', false);
  if (ranged && res.status === 206 && (res.headers.get('content-range') ?? '').startsWith(`bytes ${offset}-`)) return res.body;
  if (why === 'channel-failed' ? res.status === status : sameBody(first, incomingFromRelay(res))) return skipBytes(res.body, offset);
  void res.body.cancel().catch(() => undefined);
  throw new ChannelError(
    'ERR_CONNECTION_LOST',
    `the data channel ${why === 'channel-failed' ? 'failed' : 'stalled'} mid-response and the relay answered the resumption with ${res.status}`,
    false,
  );
}
