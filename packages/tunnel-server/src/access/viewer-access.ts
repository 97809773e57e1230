/**
 * Viewer access for password-protected sessions (`wingman http --password`). Every request and upgrade on such a
 * session's origin — relay, shell, bundles, signaling — must carry either the session's access cookie or HTTP Basic
 * credentials with the password (any user name). Basic credentials that match earn the cookie, so the browser's later
 * requests (the Service Worker's relay fetches, WebSockets, the signaling socket) pass without them. P2P needs no check
 * of its own: a data channel only exists after signaling, which is gated here.
 *
 * The gate's credentials never reach the developer's app: the cookie is removed from `Cookie`, and an `Authorization`
 * that carried the password is dropped (scrub()). An app's own `Authorization` (a bearer token, say) passes.
 * @see https://www.rfc-editor.org/rfc/rfc7617 (Basic), RFC 6265 (cookies)
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ownCookie, requestCookie } from '../http/request-cookie';
import { rewriteHeaders } from '../http/rewrite-headers';
import { createPasswordThrottle, type PasswordThrottle } from './password-throttle';
import { currentKey, sameBytes, signedUnder, type Keys } from '../keys/key-ring';

/** Name of the access cookie on a session origin (removed from every request before the app sees it). */
export const ACCESS_COOKIE = 'wingman_access';

/** Realm of the Basic challenge (browsers show it in their prompt and key cached credentials on it). */
export const ACCESS_REALM = 'Wingman session';

/** What the server keeps of a session's password: its digest and the cookie value it implies. */
export interface SessionAccess {
  /** SHA-256 of the password. */
  readonly digest: Buffer;
  /** The session's id: the access cookie is an HMAC of it and the password's digest. */
  readonly sessionId: string;
  /** The access cookie's value for this session and password (HMAC under the server's current key). */
  readonly token: string;
  /** Wrong passwords lately, per source and in all (password-throttle.ts). */
  readonly throttle: PasswordThrottle;
}

export type AccessDecision =
  /** Let it through; `setCookie` when Basic credentials earned the cookie just now. */
  | { kind: 'granted'; setCookie?: string }
  /** No or wrong credentials: 401 with a Basic challenge. */
  | { kind: 'denied'; reason: 'missing' | 'wrong' }
  /** Too many wrong passwords from this source lately (once the session took its budget: any): 429. */
  | { kind: 'throttled'; retryAfterS: number };

export type ViewerAccessGate = ReturnType<typeof createViewerAccessGate>;

interface ViewerAccessOptions {
  /** Key of the cookie HMAC: random per server process, or shared by the nodes of a cluster (server.ts); a ring signs with its current key and accepts the one before. */
  key: Keys;
  /** Mark the cookie Secure (the public URL is https). */
  secureCookie: boolean;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The password of `Authorization: Basic …`, or undefined (another scheme, malformed). */
export function basicPassword(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** `Cookie` without the cookie `name`; undefined when nothing is left. Other pairs keep their order and bytes. */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0 && pair.slice(0, pair.indexOf('=') < 0 ? pair.length : pair.indexOf('=')).trim() !== name);
  return kept.length > 0 ? kept.join('; ') : undefined;
}

export function createViewerAccessGate({ key, secureCookie }: ViewerAccessOptions) {
  const tokenUnder = (k: Uint8Array, access: SessionAccess) =>
    createHmac('sha256', k).update(access.sessionId).update('\0').update(access.digest).digest('base64url');

  const cookieMatches = (req: IncomingMessage, access: SessionAccess): boolean => {
    const value = requestCookie(req, ACCESS_COOKIE);
    return value !== undefined && signedUnder(key, value, (k) => tokenUnder(k, access));
  };

  const isPassword = (password: string | undefined, access: SessionAccess) => password !== undefined && sameBytes(sha256(password), access.digest);

  return {
    /** The access state for a session registered with `password`. */
    create(sessionId: string, password: string): SessionAccess {
      const access: SessionAccess = {
        digest: sha256(password),
        sessionId,
        // Computed when asked: in a cluster the current key may change (cluster/shared-keys.ts).
        get token() {
          return tokenUnder(currentKey(key), access);
        },
        throttle: createPasswordThrottle(),
      };
      return access;
    },

    /**
     * Decides one request or upgrade. `fromServiceWorker`: never earns a cookie
     * (its Set-Cookie would land in the SW's jar). `source`: the viewer's
     * address (viewers/viewer-address.ts), what wrong passwords are counted by.
     */
    check(req: IncomingMessage, access: SessionAccess, options: { fromServiceWorker: boolean; source: string; now?: number }): AccessDecision {
      const { fromServiceWorker, source, now = Date.now() } = options;
      if (cookieMatches(req, access)) return { kind: 'granted' };
      const retryAfterS = access.throttle.retryAfterS(source, now);
      if (retryAfterS > 0) return { kind: 'throttled', retryAfterS };
      const password = basicPassword(req.headers.authorization);
      if (password === undefined) return { kind: 'denied', reason: 'missing' };
      if (!isPassword(password, access)) {
        access.throttle.failed(source, now);
        return { kind: 'denied', reason: 'wrong' };
      }
      return fromServiceWorker ? { kind: 'granted' } : { kind: 'granted', setCookie: ownCookie(ACCESS_COOKIE, access.token, secureCookie) };
    },

    /** Removes the gate's credentials from the request's headers (in place), before anything relays it. */
    scrub(req: IncomingMessage, access: SessionAccess): void {
      rewriteHeaders(req, ['cookie', 'authorization'], (name, value) => {
        if (name === 'cookie') return withoutCookie(value, ACCESS_COOKIE);
        return name === 'authorization' && isPassword(basicPassword(value), access) ? undefined : value;
      });
    },
  };
}
