/**
 * One address mapping per tunnel, the session's origin ↔ the app's, so an app
 * that compares `Origin` or `Referer` with `Host` (Django's CSRF check,
 * `check_origin`s) sees one address, on every path: request `Origin` and
 * `Referer` naming the session move with the rewritten `Host`; response
 * `Location` & co. (app-urls.ts), `Access-Control-Allow-Origin` and cookie
 * `Domain` naming the app move back. Other origins pass unchanged; with
 * `preserve` nothing applies. docs/cli.md "One address: what the app sees".
 */
import { rewriteAppUrl, type AppAddress } from './app-urls';

export interface ExchangeAddresses {
  /** From X-Forwarded-Proto/-Host, when known (app-urls.ts `sessionOrigin`). */
  sessionOrigin: string | undefined;
  /** The viewer's `Origin`, when it named the session and was translated. */
  viewerOrigin: string | undefined;
}

/** Host (name and port, lower case) of an absolute http(s) URL, or undefined. */
function hostOf(value: string): URL | undefined {
  if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.username || url.password ? undefined : url;
}

/** `host` as a URL of `protocol` spells it (`x:443` is `x` for https); undefined when it is no host. */
function hostAs(protocol: string, host: string): string | undefined {
  return URL.canParse(`${protocol}//${host}`) ? new URL(`${protocol}//${host}`).host : undefined;
}

/** `value` (an Origin or a Referer) with its origin replaced by `appOrigin` when its host is `viewerHost`; undefined otherwise. */
function towardsApp(value: string, viewerHost: string, appOrigin: string, keepPath: boolean): string | undefined {
  const text = value.trim();
  const url = hostOf(text);
  if (!url || url.host !== hostAs(url.protocol, viewerHost)) return undefined;
  if (!keepPath) return appOrigin;
  // The rest exactly as the browser wrote it.
  const afterAuthority = text.slice(text.indexOf('//') + 2);
  const cut = afterAuthority.search(/[/?#]/);
  const rest = cut < 0 ? '/' : afterAuthority.slice(cut);
  return `${appOrigin}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/** `value` of an Origin or Referer field naming the session (`viewerHost`, trimmed and lower-case), moved to `appOrigin`; undefined when it names anything else. */
export function requestFieldTowardsApp(name: string, value: string, viewerHost: string, appOrigin: string): string | undefined {
  return name === 'origin' || name === 'referer' ? towardsApp(value, viewerHost, appOrigin, name === 'referer') : undefined;
}

/** The ASCII-lower-case, dot-stripped name a cookie's `Domain` attribute names (RFC 6265 §5.2.3). */
function cookieDomain(attr: string): string | undefined {
  const eq = attr.indexOf('=');
  if (eq < 0 || attr.slice(0, eq).trim().toLowerCase() !== 'domain') return undefined;
  return attr
    .slice(eq + 1)
    .trim()
    .toLowerCase()
    .replace(/^\./, '');
}

/**
 * `Domain` naming the app's host (`Domain=localhost`) removed: on the
 * session's host it would not match, and the browser would drop the cookie.
 * Attributes are split on every `;`, as browsers do.
 */
function mapSetCookie(field: string, app: AppAddress): string {
  const parts = field.split(';');
  const kept = parts.filter((attr, i) => {
    if (i === 0) return true;
    const domain = cookieDomain(attr);
    return domain === undefined || !app.namesHost(domain);
  });
  return kept.length === parts.length ? field : kept.join(';');
}

/** A response field's value with the app's address moved to the session's (Access-Control-Allow-Origin: the viewer's own Origin, compared byte for byte); `value` itself when it names no app address. */
export function responseFieldAddress(name: string, value: string, app: AppAddress, exchange: ExchangeAddresses): string {
  if (name === 'set-cookie') return mapSetCookie(value, app);
  if (name === 'access-control-allow-origin') {
    const url = hostOf(value.trim());
    const viewer = exchange.viewerOrigin ?? exchange.sessionOrigin;
    // An origin has no path: `http://localhost:3000` alone, as the app would echo it.
    if (url && viewer && url.pathname === '/' && !/[/?#]/.test(value.trim().slice(url.protocol.length + 2)) && app.matches(url)) return viewer;
    return value;
  }
  return rewriteAppUrl(name, value, app, exchange.sessionOrigin) ?? value;
}
