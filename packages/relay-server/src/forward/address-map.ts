/**
 * One address mapping per tunnel: the session's origin (`http://<id>.<domain>`)
 * ↔ the app's origin (`http://localhost:3000`, what the app is told it is
 * through the Host header). With the Host rewritten (`rewrite`, the default,
 * or an explicit value) the app must see one address, not two: an app that
 * compares `Origin` or `Referer` with `Host` (Django ≥ 4's CSRF origin check,
 * Tornado's `WebSocketHandler.check_origin`, Phoenix's `check_origin`) would
 * otherwise refuse every reviewer. So, in the forwarder, on every path
 * (relay, Service Worker relay, P2P, WebSocket handshakes, the inspector's
 * replay):
 *
 * | towards the app (request)         | towards the viewer (response)                                   |
 * |-----------------------------------|-----------------------------------------------------------------|
 * | `Host` → the app's (headers.ts)   | `Location`, `Content-Location`, `Refresh` → the session's (app-urls.ts) |
 * | `Origin` naming the session → the app's origin | `Access-Control-Allow-Origin` naming the app → the viewer's `Origin` |
 * | `Referer` naming the session → the app's origin, same path | `Set-Cookie` `Domain` naming the app's host → removed (host-only) |
 *
 * "Naming the session" means: the URL's host (name and port) is the `Host`
 * the viewer used. Any other origin (another site, another session) passes
 * unchanged, so an app's cross-origin checks still refuse what they refused.
 * With `preserve` nothing here applies: the app sees the viewer's addresses.
 */
import type { HeaderList } from '@wingman/protocol';
import type { AppAddress } from './app-urls';
import { rewriteAppUrls } from './app-urls';

/** What one exchange's response translation needs to know about its request. */
export interface ExchangeAddresses {
  /** The viewer's origin from X-Forwarded-Proto/-Host, when known (app-urls.ts `sessionOrigin`). */
  sessionOrigin: string | undefined;
  /** The viewer's own `Origin` field, when it named the session and was translated for the app. */
  viewerOrigin: string | undefined;
}

/** Host (name and port, lower case) of an absolute http(s) URL, or undefined. */
function hostOf(value: string): URL | undefined {
  if (!/^https?:\/\//i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.username || url.password ? undefined : url;
  } catch {
    return undefined;
  }
}

/** `host` as a URL of `protocol` spells it (`x:443` is `x` for https), or undefined when it is no host. */
function hostAs(protocol: string, host: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}

/** `value` (an Origin or a Referer) with its origin replaced by `appOrigin` when its host is `viewerHost`; undefined otherwise. */
function towardsApp(value: string, viewerHost: string, appOrigin: string, keepPath: boolean): string | undefined {
  const text = value.trim();
  const url = hostOf(text);
  if (!url || url.host !== hostAs(url.protocol, viewerHost)) return undefined;
  if (!keepPath) return appOrigin;
  // The rest exactly as the browser wrote it (no normalisation): everything after the authority.
  const afterAuthority = text.slice(text.indexOf('//') + 2);
  const cut = afterAuthority.search(/[/?#]/);
  const rest = cut < 0 ? '/' : afterAuthority.slice(cut);
  return `${appOrigin}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/**
 * The request's `Origin` and `Referer` that name the session (`viewerHost`,
 * the Host the viewer used) moved to `appOrigin`. Returns the new list and
 * the viewer's Origin when it was translated (for the response's
 * Access-Control-Allow-Origin).
 */
export function mapRequestAddresses(
  headers: HeaderList,
  viewerHost: string | undefined,
  appOrigin: string,
): { headers: HeaderList; viewerOrigin: string | undefined } {
  if (viewerHost === undefined) return { headers, viewerOrigin: undefined };
  const host = viewerHost.trim().toLowerCase();
  let viewerOrigin: string | undefined;
  const out = headers.map(([name, value]): [string, string] => {
    if (name !== 'origin' && name !== 'referer') return [name, value];
    const mapped = towardsApp(value, host, appOrigin, name === 'referer');
    if (mapped === undefined) return [name, value];
    if (name === 'origin') viewerOrigin = value.trim();
    return [name, mapped];
  });
  return { headers: out, viewerOrigin };
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
 * A Set-Cookie whose `Domain` names the app's host (`Domain=localhost`) made
 * host-only: on the session's host that Domain would not match, so the
 * browser (and the tunnel server's cookie isolation) would drop the cookie
 * the app meant to set. Attributes are split on every `;`, as browsers do.
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

/**
 * A response header list with every field that names the app's address
 * moved to the session's: Location, Content-Location and Refresh
 * (app-urls.ts), Access-Control-Allow-Origin (to the viewer's own Origin,
 * which CORS compares byte for byte) and Set-Cookie's Domain.
 */
export function mapResponseAddresses(headers: HeaderList, app: AppAddress | undefined, exchange: ExchangeAddresses): HeaderList {
  if (!app) return headers;
  return rewriteAppUrls(headers, app, exchange.sessionOrigin).map(([name, value]): [string, string] => {
    if (name === 'set-cookie') return [name, mapSetCookie(value, app)];
    if (name === 'access-control-allow-origin') {
      const url = hostOf(value.trim());
      const viewer = exchange.viewerOrigin ?? exchange.sessionOrigin;
      // An origin has no path: `http://localhost:3000` alone, as the app would echo it.
      if (url && viewer && url.pathname === '/' && !/[/?#]/.test(value.trim().slice(url.protocol.length + 2)) && app.matches(url)) return [name, viewer];
    }
    return [name, value];
  });
}
