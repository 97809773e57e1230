/**
 * Binds a sign-in to the browser that starts it on a session's origin: BIND_COOKIE, a random secret there (the apex's
 * cookies never reach a session host), whose SHA-256 digest the apex seals into its flow and the hand-off; the session
 * host accepts a hand-off only from a browser whose cookie hashes to it, so a leaked hand-off link or an attacker's own
 * sign-in sent to a victim (login CSRF) signs in nobody. Its max-age is renewed at each start, so two tabs both finish.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ownCookie, requestCookie } from '../http/request-cookie';
import { FLOW_MAX_AGE_S } from './sign-in-flow-state';

/** A session origin's cookie holding its sign-in binding secret (path SIGN_IN_PATH). */
export const BIND_COOKIE = 'wingman_signin_bind';
/** A secret or a digest: 32 bytes, base64url. */
const BIND_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const isBindDigest = (v: string | null | undefined): v is string => typeof v === 'string' && BIND_PATTERN.test(v);

const digestOf = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/** The browser's binding for a sign-in it starts now: the digest to pass on, and the cookie that keeps the secret. */
export function startBinding(req: IncomingMessage, options: { path: string; secureCookie: boolean }): { digest: string; setCookie: string } {
  const held = requestCookie(req, BIND_COOKIE);
  const secret = held !== undefined && BIND_PATTERN.test(held) ? held : randomBytes(32).toString('base64url');
  return { digest: digestOf(secret), setCookie: ownCookie(BIND_COOKIE, secret, options.secureCookie, FLOW_MAX_AGE_S, options.path) };
}

/** Whether `req` comes from the browser whose binding's digest is `digest`. */
export function boundTo(req: IncomingMessage, digest: string | undefined): boolean {
  const held = requestCookie(req, BIND_COOKIE);
  if (held === undefined || !BIND_PATTERN.test(held) || !isBindDigest(digest)) return false;
  return timingSafeEqual(Buffer.from(digestOf(held)), Buffer.from(digest));
}
