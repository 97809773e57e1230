/**
 * Which proxy the agent's connection to the tunnel server goes through, as curl picks one
 * (https://curl.se/docs/manpage.html#ENVIRONMENT):
 * - `--proxy <url>` wins; `--proxy ''` turns every proxy off;
 * - else, for an `http://` server, `http_proxy` (lower case only: curl ignores `HTTP_PROXY`, which a CGI environment
 *   fills from a request's `Proxy` header, "httpoxy"); for an `https://` server, `https_proxy` or `HTTPS_PROXY`;
 *   then `all_proxy` or `ALL_PROXY`;
 * - `no_proxy` or `NO_PROXY` (a comma-separated list) exempts the server when it is `*`, or names the server's host
 *   or a domain above it (`example.com` and `.example.com` both cover `tunnel.example.com`), or its IP address or a
 *   CIDR holding it. It applies to `--proxy` too, as in curl.
 * A proxy URL without a scheme is `http://`. Schemes: `http`, `https` (TLS to the proxy), `socks4`, `socks4a`,
 * `socks5` (the agent resolves the server's name), `socks5h` (the proxy does). Credentials go in the URL
 * (`http://user:pa%40ss@proxy:3128`): Basic for HTTP proxies, RFC 1929 for SOCKS5.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { UsageError } from './usage-error';

const PROXY_SCHEMES = ['http:', 'https:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'];

/** The proxy of the agent's connection, and where it was set (for the banner and errors). */
export interface ProxyConfig {
  url: string;
  /** `--proxy`, or the variable it came from. */
  source: string;
}

/** First set (non-empty) variable of `names`, with its name. */
function firstSet(env: NodeJS.ProcessEnv, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseProxyUrl(text: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  if (!URL.canParse(withScheme)) throw new UsageError(`invalid ${source} "${text}": expected a proxy URL such as http://proxy:3128 or socks5://proxy:1080`);
  const u = new URL(withScheme);
  if (!PROXY_SCHEMES.includes(u.protocol))
    throw new UsageError(`invalid ${source}: scheme ${u.protocol} is not a proxy scheme; use ${PROXY_SCHEMES.map((s) => s.slice(0, -1)).join(', ')}`);
  if (!u.hostname) throw new UsageError(`invalid ${source}: no proxy host`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new UsageError(`invalid ${source}: a proxy URL has no path, query or fragment`);
  return u.toString().replace(/\/$/, '');
}

/** Whether one NO_PROXY entry exempts `host` (lower case, no brackets). */
function exempts(entry: string, host: string): boolean {
  const e = entry.replace(/^\[|\]$/g, '');
  if (e === '*') return true;
  if (isIP(host) !== 0) {
    if (isIP(e) !== 0) return ipaddr.process(e).toString() === ipaddr.process(host).toString();
    const [base, bits] = e.split('/');
    if (isIP(base ?? '') === 0 || !/^[0-9]{1,3}$/.test(bits ?? '')) return false;
    try {
      const range = ipaddr.parseCIDR(e);
      const address = ipaddr.process(host);
      return address.kind() === range[0].kind() && address.match(range);
    } catch {
      return false;
    }
  }
  const domain = e.replace(/^\*?\./, '');
  return domain !== '' && (host === domain || host.endsWith(`.${domain}`));
}

/** Whether the no_proxy / NO_PROXY list exempts `host`. */
export function noProxyExempts(list: string, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return list
    .toLowerCase()
    .split(',')
    .map((e) => e.trim())
    .some((e) => exempts(e, h));
}

/** The proxy for the connection to `server` (an http:// or https:// URL): `flag` (--proxy), else the environment as curl reads it. */
export function resolveProxy(server: string, flag: string | undefined, env: NodeJS.ProcessEnv): ProxyConfig | undefined {
  if (flag !== undefined && flag.trim() === '') return undefined;
  const u = new URL(server);
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy && noProxyExempts(noProxy.value, u.hostname)) return undefined;
  if (flag !== undefined) return { url: parseProxyUrl(flag.trim(), '--proxy'), source: '--proxy' };
  const names = u.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy'];
  const set = firstSet(env, [...names, 'all_proxy', 'ALL_PROXY']);
  return set ? { url: parseProxyUrl(set.value, set.name), source: set.name } : undefined;
}

/** A proxy URL to show: its password replaced (the user name stays, it tells which account). */
export function displayProxy(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}
