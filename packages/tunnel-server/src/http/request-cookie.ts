/**
 * Cookies on a session origin or the apex: one of a request, by name (undefined when the request has no Cookie header
 * or the cookie is not in it; `cookie` reads a malformed header as far as it parses and never throws), and the
 * Set-Cookie of one the server sets for itself.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';

export function requestCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookie(header)[name] : undefined;
}

/** A cookie of the server's own: HttpOnly, SameSite=Lax, Secure when the public URL is https; a session cookie without `maxAgeS`. */
export function ownCookie(name: string, value: string, secure: boolean, maxAgeS?: number, path = '/'): string {
  return serializeCookie(name, value, { path, httpOnly: true, sameSite: 'lax', secure, ...(maxAgeS !== undefined ? { maxAge: maxAgeS } : {}) });
}
