/**
 * The sign-in gate of a session shared with `wingman http --allow-email` (docs/operations.md §Sign-in gate): every
 * request and upgrade of the session's origin must carry its sign-in cookie, for an email the developer's patterns
 * allow. A navigation without one goes through SIGN_IN_PATH (bound to the browser: sign-in-binding.ts) to the apex's
 * sign-in (sign-in-flow.ts), which sends back a one-time hand-off that earns the cookie; anything else gets a 401, an
 * email not allowed a 403 naming it. The cookie (host-only, HttpOnly, SameSite=Lax, signed: sign-in-tokens.ts) never
 * reaches the app (viewers/tag-viewer.ts).
 */
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { emailAllowed, RESERVED_PREFIX, VIA_HEADER, VIA_SW } from '@wingman/protocol';
import { ownCookie, requestCookie } from '../http/request-cookie';
import type { Session } from '../sessions/registry';
import { isNavigation } from '../http/is-navigation';
import { boundTo, startBinding } from './sign-in-binding';
import { HANDOFF_MAX_AGE_S, SIGN_IN_COOKIE, type SignedValues } from './sign-in-tokens';

/**
 * On a session origin: where a sign-in starts (`?return=<path>`, `&switch=1` for another account) and where its
 * hand-off lands (`?t=<hand-off>`); on the apex: the sign-in itself (`?session=<id>&return=<path>&bind=<digest>`).
 */
export const SIGN_IN_PATH = `${RESERVED_PREFIX}sign-in`;
/** On the apex: the redirect URI registered at the issuer. */
export const SIGN_IN_CALLBACK_PATH = `${RESERVED_PREFIX}sign-in/callback`;
/** Longest path a viewer is sent back to after signing in, characters. */
const MAX_RETURN_CHARS = 2048;
/** Hand-offs remembered as used (each valid HANDOFF_MAX_AGE_S): more than any server hands off in that time. */
const MAX_USED_HANDOFFS = 100_000;

export type SignInDecision =
  /** Let it through; `email` when the session has a sign-in gate, and `until` when that sign-in ends (ms since the epoch). */
  | { kind: 'granted'; email?: string; until?: number }
  /** A navigation without a sign-in, or SIGN_IN_PATH without a hand-off: 302 to where the sign-in goes on (with the binding's cookie). */
  | { kind: 'sign-in'; location: string; setCookie?: string }
  /** Anything else without a sign-in: 401. */
  | { kind: 'required'; signInUrl: string }
  /** Signed in with an email the session does not allow: 403. */
  | { kind: 'forbidden'; email: string; switchUrl: string }
  /** SIGN_IN_PATH with a valid hand-off: set the cookie and go back to `location`. */
  | { kind: 'handed-off'; setCookie: string; location: string }
  /** SIGN_IN_PATH with a hand-off that is not valid (forged, expired, used, another session's) or was minted for another browser. */
  | { kind: 'bad-handoff'; otherBrowser: boolean };

export type SignInGate = ReturnType<typeof createSignInGate>;

/** A path to go back to: absolute on this origin (`/…`, never `//host` nor `/\host`), bounded. */
export function safeReturnPath(path: string | null | undefined): string {
  if (!path || path.length > MAX_RETURN_CHARS || !path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return '/';
  return path;
}

export function createSignInGate(options: { signed: SignedValues; publicUrl: string; secureCookie: boolean; signInTtlS: number }) {
  const used = new LRUCache<string, true>({ max: MAX_USED_HANDOFFS, ttl: HANDOFF_MAX_AGE_S * 1000 });
  const apex = options.publicUrl.replace(/\/$/, '');

  /** Where a sign-in starts on the session's own origin (a path: the pages that link to it are served there). */
  const signInUrl = (returnPath: string, switchAccount = false) =>
    `${SIGN_IN_PATH}?return=${encodeURIComponent(safeReturnPath(returnPath))}${switchAccount ? '&switch=1' : ''}`;

  /** SIGN_IN_PATH without a hand-off: binds the sign-in to this browser, then the apex's sign-in. */
  const start = (req: IncomingMessage, sessionId: string, query: URLSearchParams): SignInDecision => {
    const { digest, setCookie } = startBinding(req, { path: SIGN_IN_PATH, secureCookie: options.secureCookie });
    const returnPath = encodeURIComponent(safeReturnPath(query.get('return')));
    const location = `${apex}${SIGN_IN_PATH}?session=${sessionId}&return=${returnPath}&bind=${digest}${query.get('switch') === '1' ? '&switch=1' : ''}`;
    return { kind: 'sign-in', location, setCookie };
  };

  const handOff = (req: IncomingMessage, sessionId: string, patterns: readonly string[], token: string): SignInDecision => {
    const claims = options.signed.verify('handoff', token);
    if (!claims || claims.s !== sessionId || typeof claims.n !== 'string' || used.has(claims.n)) return { kind: 'bad-handoff', otherBrowser: false };
    // Minted for the browser that started the sign-in: any other (a stolen link, an attacker's own sign-in sent to a victim) gets nothing.
    if (!boundTo(req, claims.b)) return { kind: 'bad-handoff', otherBrowser: true };
    used.set(claims.n, true);
    if (!emailAllowed(patterns, claims.e)) return { kind: 'forbidden', email: claims.e, switchUrl: signInUrl(claims.r ?? '/', true) };
    const value = options.signed.sign('session', { e: claims.e, s: sessionId, x: Math.floor(Date.now() / 1000) + options.signInTtlS });
    return { kind: 'handed-off', setCookie: ownCookie(SIGN_IN_COOKIE, value, options.secureCookie, options.signInTtlS), location: safeReturnPath(claims.r) };
  };

  return {
    /** Decides one request or upgrade of `session` (sessions without `allowEmails` pass). */
    check(req: IncomingMessage, sessionId: string, session: Session | undefined): SignInDecision {
      const patterns = session?.allowEmails;
      if (!patterns) return { kind: 'granted' };
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === SIGN_IN_PATH) {
        const token = url.searchParams.get('t');
        return token === null ? start(req, sessionId, url.searchParams) : handOff(req, sessionId, patterns, token);
      }
      const claims = options.signed.verify('session', requestCookie(req, SIGN_IN_COOKIE));
      const returnPath = req.url ?? '/';
      if (claims && claims.s === sessionId) {
        if (emailAllowed(patterns, claims.e)) return { kind: 'granted', email: claims.e, until: claims.x * 1000 };
        return { kind: 'forbidden', email: claims.e, switchUrl: signInUrl(returnPath, true) };
      }
      // The Service Worker's fetches are not navigations of the browser: they get the 401 (the shell reloads).
      if (req.method === 'GET' && isNavigation(req.headers) && req.headers[VIA_HEADER] !== VIA_SW) return { kind: 'sign-in', location: signInUrl(returnPath) };
      return { kind: 'required', signInUrl: signInUrl('/') };
    },
  };
}
