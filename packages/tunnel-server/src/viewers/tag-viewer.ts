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
import { rewriteHeaders } from '../http/rewrite-headers';
import { VIEWER_COOKIE } from './viewer-cookie';

/** Cookies the tunnel server sets for itself on session origins. */
const WINGMAN_COOKIES = [VIEWER_COOKIE, LINK_COOKIE, SIGN_IN_COOKIE, OWN_SW_COOKIE];

/** `visitorId`: the viewer of a session with a viewer gate; undefined: only drop a forged header. */
export function tagViewer(req: IncomingMessage, visitorId: string | undefined): void {
  const hasCookie = WINGMAN_COOKIES.some((name) => req.headers.cookie?.includes(name) === true);
  if (!hasCookie && visitorId === undefined && req.headers[VIEWER_HEADER] === undefined && req.headers[LINK_TOKEN_HEADER] === undefined) return;
  const rest = (cookie: string) => WINGMAN_COOKIES.reduce<string | undefined>((v, name) => (v === undefined ? v : withoutCookie(v, name)), cookie);
  const edit = (name: string, value: string) => {
    if (name === VIEWER_HEADER || name === LINK_TOKEN_HEADER) return undefined;
    return name === 'cookie' && hasCookie ? rest(value) : value;
  };
  rewriteHeaders(req, ['cookie', VIEWER_HEADER, LINK_TOKEN_HEADER], edit, visitorId !== undefined ? [[VIEWER_HEADER, visitorId]] : []);
}
