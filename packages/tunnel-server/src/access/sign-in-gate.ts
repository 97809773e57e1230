/**
 * The sign-in gate of a session shared with `wingman http --allow-email`, on
 * the session's origin: every request and upgrade — relay, shell, bundles,
 * the Service Worker, signaling (so P2P), WebSockets — must carry the
 * session's sign-in cookie, whose email one of the developer's patterns
 * allows (@wingman/protocol's allowed-emails.ts). A browser's navigation
 * without one goes to the server's sign-in on the apex (sign-in-flow.ts),
 * which sends it back through SIGN_IN_PATH on this origin with a one-time
 * hand-off that earns the cookie; anything else gets a 401. A signed-in
 * email the session does not allow gets a 403 that names it.
 *
 * The cookie is host-only, HttpOnly, SameSite=Lax, bound to the session id
 * and signed under the server's key (sign-in-tokens.ts); it never reaches
 * the developer's app (viewers/tag-viewer.ts removes it with Wingman's other
 * cookies), and neither does anything of the identity provider's.
 */
import type { IncomingMessage } from 'node:http';
import { serialize as serializeCookie } from 'cookie';
import { LRUCache } from 'lru-cache';
import { emailAllowed, RESERVED_PREFIX, VIA_HEADER, VIA_SW } from '@wingman/protocol';
import { requestCookie } from '../http/request-cookie';
import type { Session } from '../sessions/registry';
import { isNavigation } from '../http/is-navigation';
import { HANDOFF_MAX_AGE_S, SIGN_IN_COOKIE, SIGN_IN_MAX_AGE_S, type SignedValues } from './sign-in-tokens';

/** On the apex: where a sign-in starts (`?session=<id>&return=<path>`); on a session origin: where the hand-off lands (`?t=<hand-off>`). */
export const SIGN_IN_PATH = `${RESERVED_PREFIX}sign-in`;
/** On the apex: the redirect URI registered at the issuer. */
export const SIGN_IN_CALLBACK_PATH = `${RESERVED_PREFIX}sign-in/callback`;
/** Longest path a viewer is sent back to after signing in, characters. */
const MAX_RETURN_CHARS = 2048;
/** Hand-offs remembered as used (each valid HANDOFF_MAX_AGE_S): more than any server hands off in that time. */
const MAX_USED_HANDOFFS = 100_000;

export type SignInDecision =
  /** Let it through; `email` when the session has a sign-in gate. */
  | { kind: 'granted'; email?: string }
  /** A navigation without a sign-in: 302 to the apex's sign-in. */
  | { kind: 'sign-in'; location: string }
  /** Anything else without a sign-in: 401. */
  | { kind: 'required'; signInUrl: string }
  /** Signed in with an email the session does not allow: 403. */
  | { kind: 'forbidden'; email: string; switchUrl: string }
  /** SIGN_IN_PATH with a valid hand-off: set the cookie and go back to `location`. */
  | { kind: 'handed-off'; setCookie: string; location: string }
  /** SIGN_IN_PATH with a hand-off that is not valid (forged, expired, used, another session's). */
  | { kind: 'bad-handoff' };

export interface SignInGate {
  /** Decides one request or upgrade of `session` (sessions without `allowEmails` pass). */
  check(req: IncomingMessage, sessionId: string, session: Session | undefined): SignInDecision;
}

/** A path to go back to: absolute on this origin (`/…`, never `//host` nor `/\host`), bounded. */
export function safeReturnPath(path: string | null | undefined): string {
  if (!path || path.length > MAX_RETURN_CHARS || !path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return '/';
  return path;
}

export function createSignInGate(options: {
  signed: SignedValues;
  /** The server's public URL (the apex), without a trailing slash. */
  publicUrl: string;
  secureCookie: boolean;
}): SignInGate {
  const used = new LRUCache<string, true>({ max: MAX_USED_HANDOFFS, ttl: HANDOFF_MAX_AGE_S * 1000 });
  const apex = options.publicUrl.replace(/\/$/, '');

  const signInUrl = (sessionId: string, returnPath: string, switchAccount = false) =>
    `${apex}${SIGN_IN_PATH}?session=${sessionId}&return=${encodeURIComponent(safeReturnPath(returnPath))}${switchAccount ? '&switch=1' : ''}`;

  const handOff = (req: IncomingMessage, sessionId: string, patterns: readonly string[]): SignInDecision => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('t') ?? undefined;
    const claims = options.signed.verify('handoff', token);
    if (!claims || claims.s !== sessionId || typeof claims.n !== 'string' || used.has(claims.n)) return { kind: 'bad-handoff' };
    used.set(claims.n, true);
    if (!emailAllowed(patterns, claims.e)) return { kind: 'forbidden', email: claims.e, switchUrl: signInUrl(sessionId, claims.r ?? '/', true) };
    const value = options.signed.sign('session', { e: claims.e, s: sessionId, x: Math.floor(Date.now() / 1000) + SIGN_IN_MAX_AGE_S });
    const setCookie = serializeCookie(SIGN_IN_COOKIE, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secureCookie,
      maxAge: SIGN_IN_MAX_AGE_S,
    });
    return { kind: 'handed-off', setCookie, location: safeReturnPath(claims.r) };
  };

  return {
    check(req, sessionId, session) {
      const patterns = session?.allowEmails;
      if (!patterns) return { kind: 'granted' };
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === SIGN_IN_PATH) return handOff(req, sessionId, patterns);
      const claims = options.signed.verify('session', requestCookie(req, SIGN_IN_COOKIE));
      const returnPath = req.url ?? '/';
      if (claims && claims.s === sessionId) {
        if (emailAllowed(patterns, claims.e)) return { kind: 'granted', email: claims.e };
        return { kind: 'forbidden', email: claims.e, switchUrl: signInUrl(sessionId, returnPath, true) };
      }
      // The Service Worker's fetches are not navigations of the browser: they get the 401 (the shell reloads).
      if (req.method === 'GET' && isNavigation(req) && req.headers[VIA_HEADER] !== VIA_SW)
        return { kind: 'sign-in', location: signInUrl(sessionId, returnPath) };
      return { kind: 'required', signInUrl: signInUrl(sessionId, '/') };
    },
  };
}
