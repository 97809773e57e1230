/**
 * The tunnel server's half of the cookie design (docs/browser-client.md §Cookies): for requests the Service Worker
 * relays (VIA_HEADER: sw), its jar's cookies (SW_COOKIE_HEADER, merged with the browser's `Cookie` under
 * SW_COOKIE_MERGE_HEADER, else replacing it) go into `Cookie`; `Set-Cookie` moves into SW_SET_COOKIE_HEADER and a
 * redirect becomes a 200 with SW_STATUS_HEADER, which a SW could not read otherwise. A relayed WebSocket's ticket
 * cookies are merged the same way. Pure over the protocol's header lists.
 */
import type { HeaderList, ResponseHead } from '@wingman/protocol';
import { SW_COOKIE_HEADER, SW_COOKIE_MERGE_HEADER, SW_SET_COOKIE_HEADER, SW_STATUS_HEADER, VIA_HEADER, VIA_SW } from '@wingman/protocol';

/** Redirect statuses a browser follows (Fetch "redirect status"). */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** True when the Service Worker relayed this request (request header list, lower-case names). */
export function isSwRelayRequest(headers: HeaderList): boolean {
  return headers.some(([name, value]) => name === VIA_HEADER && value.trim() === VIA_SW);
}

/** Header names only the Service Worker may send (dropped from every request before it reaches the app). */
const SW_REQUEST_HEADERS = new Set([SW_COOKIE_HEADER, SW_COOKIE_MERGE_HEADER]);

/** `name=value` pairs of Cookie header values (RFC 6265 §4.2.1: separated by "; "). */
function cookiePairs(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(';'))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function pairName(pair: string): string {
  const eq = pair.indexOf('=');
  return (eq < 0 ? '' : pair.slice(0, eq)).trim();
}

/**
 * Request side: for a SW relay request, `Cookie` := SW_COOKIE_HEADER merged with the browser's `Cookie`
 * (SW_COOKIE_MERGE_HEADER) or replacing it; the bridge headers never reach the app. Any other request is returned
 * unchanged except that stray bridge headers are dropped (only the SW may choose cookies this way).
 */
export function applySwCookieBridge(headers: HeaderList): HeaderList {
  if (!isSwRelayRequest(headers)) return headers.some(([n]) => SW_REQUEST_HEADERS.has(n)) ? headers.filter(([n]) => !SW_REQUEST_HEADERS.has(n)) : headers;
  const sw = cookiePairs(valuesOf(headers, SW_COOKIE_HEADER));
  const pairs = headers.some(([n]) => n === SW_COOKIE_MERGE_HEADER) ? mergePairs(sw, headers) : sw;
  return withCookie(
    headers.filter(([n]) => n !== VIA_HEADER && !SW_REQUEST_HEADERS.has(n)),
    pairs,
  );
}

/** `headers` with its `Cookie` fields replaced by one made of `pairs` (none when empty). */
function withCookie(headers: HeaderList, pairs: string[]): HeaderList {
  const out: HeaderList = headers.filter(([n]) => n !== 'cookie');
  if (pairs.length > 0) out.push(['cookie', pairs.join('; ')]);
  return out;
}

function valuesOf(headers: HeaderList, name: string): string[] {
  return headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** The SW's pairs first, then the browser's `Cookie` pairs whose names the SW's do not use (a script cannot replace an HttpOnly cookie). */
function mergePairs(sw: string[], headers: HeaderList): string[] {
  const swNames = new Set(sw.map(pairName));
  return [...sw, ...cookiePairs(valuesOf(headers, 'cookie')).filter((p) => !swNames.has(pairName(p)))];
}

/** A relayed WebSocket upgrade: a redeemed ticket's cookies merged into `Cookie` the same way; without one, only stray bridge headers are dropped. */
export function applyWsTicketCookies(headers: HeaderList, ticketCookie: string | undefined): HeaderList {
  const out: HeaderList = headers.filter(([n]) => !SW_REQUEST_HEADERS.has(n));
  if (ticketCookie === undefined) return out.length === headers.length ? headers : out;
  return withCookie(out, mergePairs(cookiePairs([ticketCookie]), out));
}

/**
 * Response headers side: moves every `Set-Cookie` into SW_SET_COOKIE_HEADER (JSON array, in order). Headers of the
 * same name the app might have sent are dropped first, so only the tunnel server speaks this channel.
 */
export function bridgeSetCookie(headers: HeaderList): HeaderList {
  const cookies: string[] = [];
  const out: HeaderList = [];
  for (const [name, value] of headers) {
    if (name === 'set-cookie') cookies.push(value);
    else if (name !== SW_SET_COOKIE_HEADER && name !== SW_STATUS_HEADER) out.push([name, value]);
  }
  if (cookies.length > 0) out.push([SW_SET_COOKIE_HEADER, JSON.stringify(cookies)]);
  return out;
}

/**
 * The whole response-side bridge for a SW relay request (isSwRelayRequest()): bridgeSetCookie, plus a redirect with
 * Location answered as 200 with SW_STATUS_HEADER = the original status.
 */
export function bridgeSwResponse(head: ResponseHead): ResponseHead {
  const headers = bridgeSetCookie(head.headers);
  if (REDIRECT_STATUSES.has(head.status) && headers.some(([n]) => n === 'location')) {
    headers.push([SW_STATUS_HEADER, String(head.status)]);
    return { status: 200, headers };
  }
  return { status: head.status, headers };
}
