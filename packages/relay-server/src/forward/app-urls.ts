/**
 * Response URLs that point at the local app, moved to the session's origin:
 * behind a rewritten Host an app answers `Location: http://localhost:3000/…`,
 * which the viewer cannot reach. Location, Content-Location and Refresh
 * naming the app (any loopback spelling, http or https, its port) go to the
 * request's session origin (X-Forwarded-Proto + -Host), else path-absolute.
 */
import type { HeaderList } from '@wingman/protocol';
import { isLoopbackHost } from '../loopback-host';
import type { HostHeaderMode, Target } from './target';

export interface AppAddress {
  /** `url`: absolute, http or https. */
  matches(url: URL): boolean;
  /** A host name (lower case, no port, IPv6 bracketed) the app answers as (a cookie's Domain). */
  namesHost(hostname: string): boolean;
}

const portOf = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** The Host the app is sent; undefined with `preserve` (it sees the viewer's host). */
export function appAddress(target: Target, hostHeader: HostHeaderMode): AppAddress | undefined {
  if (hostHeader === 'preserve') return undefined;
  if (hostHeader === 'rewrite') {
    const name = target.host.includes(':') ? `[${target.host.toLowerCase()}]` : target.host.toLowerCase();
    const loopback = isLoopbackHost(name);
    const namesHost = (hostname: string) => hostname === name || (loopback && isLoopbackHost(hostname));
    return { matches: (url) => portOf(url) === target.port && namesHost(url.hostname), namesHost };
  }
  // An explicit Host value (`--host-header app.test:8080`): URLs naming exactly it.
  if (!URL.canParse(`http://${hostHeader}`)) return undefined;
  const given = new URL(`http://${hostHeader}`);
  return {
    matches: (url) => url.hostname === given.hostname && (given.port ? portOf(url) === Number(given.port) : url.port === ''),
    namesHost: (hostname) => hostname === given.hostname,
  };
}

const HOST_VALUE = /^(?:[a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/** From the head sent to the app; undefined when it does not say (a P2P head has no X-Forwarded-Proto). */
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

/** The app's origin replaced by `origin` (or none: path-absolute); undefined when it does not name the app. */
function rewriteUrl(value: string, app: AppAddress, origin: string | undefined): string | undefined {
  const text = value.trim();
  const m = /^(?:https?:)?\/\//i.exec(text);
  if (!m || !URL.canParse(text, 'http://relative.invalid/')) return undefined;
  const url = new URL(text, 'http://relative.invalid/');
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || !app.matches(url)) return undefined;
  const afterSlashes = m[0].length;
  const end = text.slice(afterSlashes).search(/[/?#]/);
  const rest = end < 0 ? '' : text.slice(afterSlashes + end);
  return `${origin ?? ''}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/** Refresh: `<delay>[;,] [url=]<url>` (HTML "shared declarative refresh steps"), the URL maybe quoted. */
function rewriteRefresh(value: string, app: AppAddress, origin: string | undefined): string | undefined {
  const m = /^(\s*[0-9.]+\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)(.*)$/i.exec(value);
  if (!m || !m[3]) return undefined;
  const [, prefix, quote, tail] = m as unknown as [string, string, string, string];
  const close = quote ? tail.indexOf(quote) : -1;
  const url = close < 0 ? tail : tail.slice(0, close);
  const rewritten = rewriteUrl(url, app, origin);
  return rewritten === undefined ? undefined : `${prefix}${quote}${rewritten}${close < 0 ? '' : tail.slice(close)}`;
}

/** A Location, Content-Location or Refresh value naming the app, rewritten to the session's `origin`; undefined for any other field or value. */
export function rewriteAppUrl(name: string, value: string, app: AppAddress, origin: string | undefined): string | undefined {
  if (name === 'location' || name === 'content-location') return rewriteUrl(value, app, origin);
  return name === 'refresh' ? rewriteRefresh(value, app, origin) : undefined;
}
