/**
 * One cookie of a request, by name: undefined when the request has no Cookie header, the header does not parse, or
 * the cookie is not in it. A malformed header is the client's problem, never an exception here.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';

export function requestCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  try {
    return parseCookie(header)[name];
  } catch {
    return undefined;
  }
}
