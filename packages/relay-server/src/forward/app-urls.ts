/**
 * Response URLs that point at the local app, moved to the session's origin.
 * With the Host header rewritten (the default), an app that builds absolute
 * URLs from its request (`res.redirect(req.protocol + '://' + req.get('host')
 * + '/login')`, a dev server's base redirect) answers with
 * `Location: http://localhost:3000/login`, which the viewer cannot reach.
 * Location, Content-Location and Refresh whose URL names the app's address
 * (any loopback spelling of a loopback target: localhost, 127.0.0.1, [::1];
 * http or https; the target's port) are rewritten to the session origin the
 * request came from (X-Forwarded-Proto + X-Forwarded-Host), or to a
 * path-absolute reference when that origin is not known. Every other URL is
 * left alone.
 */
import type { HeaderList } from '@wingman/protocol';
import type { HostHeaderMode, Target } from './target';

/** Recognises the app's own address in a URL. */
export interface AppAddress {
  /** True when `url` (absolute, http or https) names the app. */
  matches(url: URL): boolean;
  /** True when a host name (lower case, no port, IPv6 bracketed as in a URL) is one the app answers as (a cookie's Domain). */
  namesHost(hostname: string): boolean;
}

/** Host names that reach a loopback target (as URL.hostname spells them). */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function isLoopback(hostname: string): boolean {
  return LOOPBACK_NAMES.includes(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const defaultPort = (url: URL): number => (url.protocol === 'https:' ? 443 : 80);
const portOf = (url: URL): number => (url.port ? Number(url.port) : defaultPort(url));

/**
 * The address the app believes it has: the Host it is sent. Undefined with
 * `preserve` (the app already sees the viewer's host, nothing to rewrite).
 */
export function appAddress(target: Target, hostHeader: HostHeaderMode): AppAddress | undefined {
  if (hostHeader === 'preserve') return undefined;
  if (hostHeader === 'rewrite') {
    const name = target.host.includes(':') ? `[${target.host.toLowerCase()}]` : target.host.toLowerCase();
    const loopback = isLoopback(name);
    const namesHost = (hostname: string) => hostname === name || (loopback && isLoopback(hostname));
    return { matches: (url) => portOf(url) === target.port && namesHost(url.hostname), namesHost };
  }
  // An explicit Host value (`--host-header app.test:8080`): URLs naming exactly it.
  let given: URL;
  try {
    given = new URL(`http://${hostHeader}`);
  } catch {
    return undefined;
  }
  return {
    matches: (url) => url.hostname === given.hostname && (given.port ? portOf(url) === Number(given.port) : url.port === ''),
    namesHost: (hostname) => hostname === given.hostname,
  };
}

const HOST_VALUE = /^(?:[a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/**
 * The viewer's origin from the request headers sent to the app
 * (`https://<id>.tunnel.example.com`), or undefined when they do not say it
 * (a P2P head carries Host but no X-Forwarded-Proto).
 */
export function sessionOrigin(requestHeaders: HeaderList): string | undefined {
  const first = (name: string) =>
    requestHeaders
      .find(([n]) => n === name)?.[1]
      .split(',')[0]
      ?.trim();
  const proto = first('x-forwarded-proto')?.toLowerCase();
  const host = first('x-forwarded-host');
  if ((proto !== 'http' && proto !== 'https') || !host || !HOST_VALUE.test(host)) return undefined;
  return `${proto}://${host.toLowerCase()}`;
}

/** `value` with the app's origin replaced by `origin` (or by nothing: a path-absolute reference); undefined when it does not name the app. */
function rewriteUrl(value: string, app: AppAddress, origin: string | undefined): string | undefined {
  const text = value.trim();
  const m = /^(?:https?:)?\/\//i.exec(text);
  if (!m) return undefined;
  let url: URL;
  try {
    url = new URL(text, 'http://relative.invalid/');
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || !app.matches(url)) return undefined;
  // Keep the path, query and fragment exactly as the app wrote them.
  const afterSlashes = m[0].length;
  const end = text.slice(afterSlashes).search(/[/?#]/);
  const rest = end < 0 ? '' : text.slice(afterSlashes + end);
  return `${origin ?? ''}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/**
 * Refresh: `<delay>[;,] [url=]<url>` (HTML "shared declarative refresh
 * steps"); the URL may be quoted.
 */
function rewriteRefresh(value: string, app: AppAddress, origin: string | undefined): string | undefined {
  const m = /^(\s*[0-9.]+\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)(.*)$/i.exec(value);
  if (!m || !m[3]) return undefined;
  const [, prefix, quote, tail] = m as unknown as [string, string, string, string];
  const close = quote ? tail.indexOf(quote) : -1;
  const url = close < 0 ? tail : tail.slice(0, close);
  const rewritten = rewriteUrl(url, app, origin);
  return rewritten === undefined ? undefined : `${prefix}${quote}${rewritten}${close < 0 ? '' : tail.slice(close)}`;
}

/** A response header list with Location, Content-Location and Refresh that name the app moved to the session origin. */
export function rewriteAppUrls(headers: HeaderList, app: AppAddress | undefined, origin: string | undefined): HeaderList {
  if (!app) return headers;
  return headers.map(([name, value]): [string, string] => {
    const rewritten =
      name === 'location' || name === 'content-location' ? rewriteUrl(value, app, origin) : name === 'refresh' ? rewriteRefresh(value, app, origin) : undefined;
    return rewritten === undefined ? [name, value] : [name, rewritten];
  });
}
