/**
 * Keeps every cookie an app sets on its own session host: sessions are sibling subdomains, and an agent is run by
 * whoever shares a link, so a `Set-Cookie: …; Domain=<domain>` would reach every other session's app (cookie tossing).
 * A Domain that covers the host is removed (host-only, RFC 6265 §5.3 step 6); one that does not is dropped (browsers
 * refuse it anyway); a `__Host-` cookie with a Domain is dropped too (RFC 6265bis §4.1.3.2), so removing Domain never
 * makes a refused cookie accepted. Attributes split on every `;` as browsers do, so no spelling hides a Domain; the
 * rest of the field is kept byte for byte. docs/deploy.md "Session isolation": what a non-public-suffix domain still shares.
 */
import type { HeaderList } from '@wingman/protocol';

/** RFC 6265 §5.1.3 domain-match of a host name (lower case, no port) against a Domain value. */
function domainCovers(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * One Set-Cookie field made host-only for `host` (the session's host name, lower case, no port); undefined when a
 * browser would refuse it on that host, so it must not be sent at all.
 */
export function hostOnlySetCookie(field: string, host: string): string | undefined {
  const parts = field.split(';');
  const kept: string[] = [parts[0]!];
  let domain: string | undefined;
  for (const attr of parts.slice(1)) {
    const eq = attr.indexOf('=');
    const name = (eq < 0 ? attr : attr.slice(0, eq)).trim().toLowerCase();
    if (name !== 'domain') {
      kept.push(attr);
      continue;
    }
    // §5.2.3: an empty value is ignored; a leading dot is dropped; the last Domain wins.
    const value = (eq < 0 ? '' : attr.slice(eq + 1)).trim().toLowerCase().replace(/^\./, '');
    if (value) domain = value;
  }
  if (domain === undefined) return kept.length === parts.length ? field : kept.join(';');
  if (!domainCovers(host, domain)) return undefined;
  const cookieName = parts[0]!.slice(0, Math.max(0, parts[0]!.indexOf('='))).trim();
  if (cookieName.toLowerCase().startsWith('__host-')) return undefined;
  return kept.join(';');
}

/** A response header list whose Set-Cookie fields are host-only for `host` (see hostOnlySetCookie). Other fields unchanged. */
export function hostOnlyCookies(headers: HeaderList, host: string): HeaderList {
  if (!headers.some(([name]) => name === 'set-cookie')) return headers;
  return headers.flatMap(([name, value]): HeaderList => {
    const field = name === 'set-cookie' ? hostOnlySetCookie(value, host) : value;
    return field === undefined ? [] : [[name, field]];
  });
}
