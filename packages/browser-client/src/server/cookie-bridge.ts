/**
 * The tunnel server's half of the cookie design (docs/browser-client.md
 * §Cookies). The Service Worker keeps the session's cookie jar: it cannot
 * read `Set-Cookie` of a response it fetched, nor set `Cookie` on a request.
 * So for requests it relays (VIA_HEADER: sw):
 *  - request: its jar travels in SW_COOKIE_HEADER and replaces `Cookie`
 *    (the browser's own jar for the origin is not the truth);
 *  - response: `Set-Cookie` fields move into SW_SET_COOKIE_HEADER (a JSON
 *    array), so the browser does not apply them and the SW can; a redirect
 *    becomes a 200 carrying SW_STATUS_HEADER (a SW sees fetched redirects
 *    only as opaque or already followed, losing their Set-Cookie), and the
 *    SW turns it back into the redirect.
 * Every function is pure over the protocol's header lists.
 */
import type { HeaderList, ResponseHead } from '@wingman/protocol';
import { SW_COOKIE_HEADER, SW_SET_COOKIE_HEADER, SW_STATUS_HEADER, VIA_HEADER, VIA_SW } from '../shared/constants';

/** Redirect statuses a browser follows (Fetch "redirect status"). */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** True when the Service Worker relayed this request (request header list, lower-case names). */
export function isSwRelayRequest(headers: HeaderList): boolean {
  return headers.some(([name, value]) => name === VIA_HEADER && value.trim() === VIA_SW);
}

/**
 * Request side: for a SW relay request, `Cookie` := SW_COOKIE_HEADER (or
 * none); VIA_HEADER and SW_COOKIE_HEADER never reach the app. Any other
 * request is returned unchanged except that a stray SW_COOKIE_HEADER is
 * dropped (only the SW may choose cookies this way).
 */
export function applySwCookieBridge(headers: HeaderList): HeaderList {
  if (!isSwRelayRequest(headers)) return headers.some(([n]) => n === SW_COOKIE_HEADER) ? headers.filter(([n]) => n !== SW_COOKIE_HEADER) : headers;
  const jar = headers
    .filter(([n]) => n === SW_COOKIE_HEADER)
    .map(([, v]) => v.trim())
    .filter((v) => v.length > 0)
    .join('; ');
  const out: HeaderList = headers.filter(([n]) => n !== 'cookie' && n !== VIA_HEADER && n !== SW_COOKIE_HEADER);
  if (jar.length > 0) out.push(['cookie', jar]);
  return out;
}

/**
 * Response headers side: moves every `Set-Cookie` into SW_SET_COOKIE_HEADER
 * (JSON array, in order). Headers of the same name the app might have sent
 * are dropped first, so only the tunnel server speaks this channel.
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
 * The whole response-side bridge for a SW relay request: bridgeSetCookie,
 * plus a redirect (301/302/303/307/308 with Location) answered as 200 with
 * SW_STATUS_HEADER = the original status. Call it only when
 * isSwRelayRequest() held for the request.
 */
export function bridgeSwResponse(head: ResponseHead): ResponseHead {
  const headers = bridgeSetCookie(head.headers);
  if (REDIRECT_STATUSES.has(head.status) && headers.some(([n]) => n === 'location')) {
    headers.push([SW_STATUS_HEADER, String(head.status)]);
    return { status: 200, headers };
  }
  return { status: head.status, headers };
}
