/**
 * The session origin's cookie jar as the Service Worker keeps it (pure; persistence in sw/cookies.ts): the
 * parts of RFC 6265 §5 a dev app relies on. Every cookie is host-only; Secure never withholds one, as
 * session origins are all potentially trustworthy.
 */

export type SameSite = 'strict' | 'lax' | 'none';

export interface Cookie {
  name: string;
  value: string;
  path: string;
  /** Expiry, ms since the epoch; absent for a session cookie. */
  expires?: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite: SameSite;
  /** Creation time, ms (orders cookies of equal path length, §5.4). */
  created: number;
  /** This exact name/value is in the browser's own jar (mirrored for the app's JS; non-HttpOnly only). */
  mirrored?: boolean;
}

export type CookieChange = { kind: 'set'; cookie: Cookie } | { kind: 'delete'; cookie: Cookie };

/** Per RFC 6265 §6.1 browsers keep at least 4096 bytes per cookie… */
export const MAX_COOKIE_BYTES = 4096;
/** …and at least 50 per domain; Chromium keeps 180. */
export const MAX_COOKIES = 180;

/** What a request looks like to SameSite (RFC 6265bis §5.2). */
export interface RequestContext {
  /** The request was initiated by another site (its referrer is cross-site). */
  crossSite: boolean;
  /** A top-level navigation with a safe method (Lax cookies go along). */
  safeTopLevelNavigation: boolean;
}

const SAME_SITE_CONTEXT: RequestContext = { crossSite: false, safeTopLevelNavigation: false };

/** §5.1.4 default-path of a request path. */
export function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** §5.1.4 path-match. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** §5.1.3 domain-match (host is already lower case). */
function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  const isIp = /^[0-9.]+$/.test(host) || host.includes(':');
  return !isIp && host.endsWith(`.${domain}`);
}

/** A parsed Set-Cookie field, before it meets the jar. */
interface Parsed {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  expires?: number;
  maxAge?: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite: SameSite;
}

/** §5.2: undefined when the field must be ignored. */
export function parseSetCookie(field: string): Parsed | undefined {
  const [pair = '', ...attrs] = field.split(';');
  const eq = pair.indexOf('=');
  // A nameless cookie (no "=") is legal but no app we serve relies on it; ignoring it is the conservative choice.
  if (eq <= 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (name.length === 0 || /[\x00-\x1f\x7f]/.test(name + value)) return undefined;
  if (name.length + value.length > MAX_COOKIE_BYTES) return undefined;
  const out: Parsed = { name, value, httpOnly: false, secure: false, sameSite: 'lax' };
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : attr.slice(i + 1).trim();
    switch (key) {
      case 'expires': {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) out.expires = t;
        break;
      }
      case 'max-age':
        if (/^-?[0-9]+$/.test(val)) out.maxAge = Number(val);
        break;
      case 'domain':
        if (val) out.domain = val.replace(/^\./, '').toLowerCase();
        break;
      case 'path':
        if (val.startsWith('/')) out.path = val;
        break;
      case 'secure':
        out.secure = true;
        break;
      case 'httponly':
        out.httpOnly = true;
        break;
      case 'samesite': {
        const v = val.toLowerCase();
        if (v === 'strict' || v === 'lax' || v === 'none') out.sameSite = v;
        break;
      }
      default:
        // Unknown attributes are ignored (§5.2 step 6).
        break;
    }
  }
  return out;
}

const keyOf = (name: string, path: string) => `${name}\u0000${path}`;
const cookieHeader = (cookies: Cookie[]) => cookies.map((c) => `${c.name}=${c.value}`).join('; ');

export class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  /** `host`: the session origin's host name, lower case, no port. */
  constructor(
    private readonly host: string,
    initial: readonly Cookie[] = [],
  ) {
    for (const c of initial) this.cookies.set(keyOf(c.name, c.path), { ...c });
  }

  /** Every stored cookie (expired ones included until purgeExpired). */
  list(): Cookie[] {
    return [...this.cookies.values()].map((c) => ({ ...c }));
  }

  get(name: string, path: string): Cookie | undefined {
    const c = this.cookies.get(keyOf(name, path));
    return c ? { ...c } : undefined;
  }

  /** Applies one Set-Cookie field of a response to `requestPath`. Returns what changed (undefined: ignored). */
  applySetCookie(field: string, requestPath: string, now: number): CookieChange | undefined {
    const p = parseSetCookie(field);
    if (!p) return undefined;
    if (p.domain !== undefined && !domainMatches(this.host, p.domain)) return undefined;
    const path = p.path ?? defaultPath(requestPath);
    // Cookie prefixes (RFC 6265bis §4.1.3).
    if (p.name.startsWith('__Secure-') && !p.secure) return undefined;
    if (p.name.startsWith('__Host-') && (!p.secure || p.domain !== undefined || path !== '/')) return undefined;
    // SameSite=None requires Secure in browsers; keep the same rule so behaviour matches the relay.
    if (p.sameSite === 'none' && !p.secure) return undefined;
    let expires: number | undefined;
    if (p.maxAge !== undefined) expires = p.maxAge <= 0 ? 0 : now + p.maxAge * 1000;
    else if (p.expires !== undefined) expires = p.expires;
    if (expires !== undefined && expires <= now) return this.delete(p.name, path);
    return this.store({
      name: p.name,
      value: p.value,
      path,
      httpOnly: p.httpOnly,
      secure: p.secure,
      sameSite: p.sameSite,
      created: this.cookies.get(keyOf(p.name, path))?.created ?? now,
      ...(expires !== undefined ? { expires } : {}),
    });
  }

  /** A cookie the app's own JavaScript set, read back from the browser's jar; never over an HttpOnly one (RFC 6265 §5.3 step 11). */
  putFromScript(item: { name: string; value: string; path?: string; expires?: number }, now: number): CookieChange | undefined {
    const path = item.path && item.path.startsWith('/') ? item.path : '/';
    const existing = this.cookies.get(keyOf(item.name, path));
    if (existing?.httpOnly) return undefined;
    if (existing && existing.value === item.value) return undefined;
    if (item.name.length === 0 || item.name.length + item.value.length > MAX_COOKIE_BYTES) return undefined;
    return this.store({
      name: item.name,
      value: item.value,
      path,
      httpOnly: false,
      secure: existing?.secure ?? false,
      sameSite: existing?.sameSite ?? 'lax',
      created: existing?.created ?? now,
      ...(item.expires !== undefined ? { expires: item.expires } : existing?.expires !== undefined ? { expires: existing.expires } : {}),
    });
  }

  /** Records that the browser's jar holds this cookie's current value. */
  markMirrored(name: string, path: string, value: string): void {
    const c = this.cookies.get(keyOf(name, path));
    if (c && c.value === value) c.mirrored = true;
  }

  delete(name: string, path: string): CookieChange | undefined {
    const existing = this.cookies.get(keyOf(name, path));
    if (!existing) return undefined;
    this.cookies.delete(keyOf(name, path));
    return { kind: 'delete', cookie: existing };
  }

  purgeExpired(now: number): CookieChange[] {
    const out: CookieChange[] = [];
    for (const [k, c] of this.cookies) {
      if (c.expires !== undefined && c.expires <= now) {
        this.cookies.delete(k);
        out.push({ kind: 'delete', cookie: c });
      }
    }
    return out;
  }

  /** Cookies sent with a request to `requestPath`, in §5.4 order. */
  matching(requestPath: string, now: number, context: RequestContext = SAME_SITE_CONTEXT): Cookie[] {
    return [...this.cookies.values()]
      .filter((c) => (c.expires === undefined || c.expires > now) && pathMatches(requestPath, c.path))
      .filter((c) => !context.crossSite || c.sameSite === 'none' || (c.sameSite === 'lax' && context.safeTopLevelNavigation))
      .sort((a, b) => b.path.length - a.path.length || a.created - b.created);
  }

  /** The Cookie header value for a request (empty string: none). */
  header(requestPath: string, now: number, context?: RequestContext): string {
    return cookieHeader(this.matching(requestPath, now, context));
  }

  /** The part of the Cookie header the browser's own jar cannot supply: HttpOnly cookies, and those whose mirror did not land. */
  unmirroredHeader(requestPath: string, now: number, context?: RequestContext): string {
    return cookieHeader(this.matching(requestPath, now, context).filter((c) => c.httpOnly || !c.mirrored));
  }

  private store(cookie: Cookie): CookieChange {
    const k = keyOf(cookie.name, cookie.path);
    if (!this.cookies.has(k) && this.cookies.size >= MAX_COOKIES) {
      // Evict the oldest (§5.3 step 12 lets the user agent choose).
      let oldest: [string, Cookie] | undefined;
      for (const e of this.cookies) if (!oldest || e[1].created < oldest[1].created) oldest = e;
      if (oldest) this.cookies.delete(oldest[0]);
    }
    this.cookies.set(k, cookie);
    return { kind: 'set', cookie: { ...cookie } };
  }
}
