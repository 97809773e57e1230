/**
 * Before a request is relayed: Wingman's cookies (the viewer cookie, the link cookie, the sign-in cookie,
 * OWN_SW_COOKIE) and the link token header never reach the developer's app (removed), and VIEWER_HEADER says which
 * viewer sent it (the agent's inspector shows it; the agent removes it before the app). Any VIEWER_HEADER the viewer
 * sent itself is dropped. Edits the request in place.
 */
import type { IncomingMessage } from 'node:http';
import { LINK_TOKEN_HEADER, OWN_SW_COOKIE, VIEWER_HEADER } from '@wingman/protocol';
import { LINK_COOKIE } from '../access/link-access';
import { SIGN_IN_COOKIE } from '../access/sign-in-tokens';
import { withoutCookie } from '../access/viewer-access';
import { VIEWER_COOKIE } from './viewer-cookie';

/** Cookies the tunnel server sets for itself on session origins. */
const WINGMAN_COOKIES = [VIEWER_COOKIE, LINK_COOKIE, SIGN_IN_COOKIE, OWN_SW_COOKIE];

/** `visitorId`: the viewer of a session with a viewer gate; undefined: only drop a forged header. */
export function tagViewer(req: IncomingMessage, visitorId: string | undefined): void {
  const hasCookie = WINGMAN_COOKIES.some((name) => req.headers.cookie?.includes(name) === true);
  if (!hasCookie && visitorId === undefined && req.headers[VIEWER_HEADER] === undefined && req.headers[LINK_TOKEN_HEADER] === undefined) return;
  const raw = req.rawHeaders;
  const out: string[] = [];
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    let value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === VIEWER_HEADER || lower === LINK_TOKEN_HEADER) continue;
    if (lower === 'cookie') {
      const rest = hasCookie ? WINGMAN_COOKIES.reduce<string | undefined>((v, name) => (v === undefined ? v : withoutCookie(v, name)), value) : value;
      if (rest === undefined) continue;
      cookies.push((value = rest));
    }
    out.push(name, value);
  }
  if (visitorId !== undefined) out.push(VIEWER_HEADER, visitorId);
  req.rawHeaders = out;
  // req.headers was derived from rawHeaders once already: keep it in step.
  if (cookies.length > 0) req.headers.cookie = cookies.join('; ');
  else delete req.headers.cookie;
  if (visitorId !== undefined) req.headers[VIEWER_HEADER] = visitorId;
  else delete req.headers[VIEWER_HEADER];
  delete req.headers[LINK_TOKEN_HEADER];
}
