/**
 * The sign-in gate on the wire (`--allow-email`): patterns `alice@example.com` or `*@example.com` (that
 * domain only, not subdomains), matched ignoring case. docs/PROTOCOL.md §Agent control channel.
 */
import { protocolError } from './errors';

/** A team's addresses and domains; bounds the register and each check. */
export const MAX_ALLOWED_EMAILS = 64;
/** RFC 5321's path limit. */
export const MAX_EMAIL_CHARS = 254;

/** `local@domain` or `*@domain`: no spaces, one `@`, a domain of DNS labels. */
const EMAIL_PATTERN = /^(?:\*|[^\s@*"(),:;<>[\\\]]{1,64})@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The pattern lower-cased, or undefined when it is not one (what `wingman` checks before it connects, and the server again). */
export function normaliseEmailPattern(text: string): string | undefined {
  const value = text.trim().toLowerCase();
  return value.length <= MAX_EMAIL_CHARS && EMAIL_PATTERN.test(value) ? value : undefined;
}

/** The register's `allowEmails`: a list of 1-MAX_ALLOWED_EMAILS patterns, each in the form normaliseEmailPattern() returns. */
export function parseAllowedEmails(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ALLOWED_EMAILS)
    throw protocolError('ERR_INVALID_PAYLOAD', `"allowEmails" must be a list of 1-${MAX_ALLOWED_EMAILS} email patterns`);
  return v.map((p: unknown) => {
    if (typeof p !== 'string' || normaliseEmailPattern(p) !== p)
      throw protocolError('ERR_INVALID_PAYLOAD', '"allowEmails" holds a value that is not a lower-case email or *@domain');
    return p;
  });
}

/** Whether `email` (a verified address from the identity provider) matches one of `patterns`. */
export function emailAllowed(patterns: readonly string[], email: string): boolean {
  const address = email.toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = address.slice(at + 1);
  return patterns.some((p) => p === address || (p.startsWith('*@') && p.slice(2) === domain));
}
