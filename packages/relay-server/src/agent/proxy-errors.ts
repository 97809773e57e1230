/**
 * What went wrong on the way through a proxy (`--proxy`, HTTPS_PROXY, …), in
 * words that name the proxy and what to do: a proxy that does not answer
 * may come back (retried, ERR_PROXY_UNREACHABLE; a proxy host that does not
 * resolve stops the agent as a server's would), refused credentials do not
 * (ERR_PROXY_REFUSED, fatal), nor a proxy whose rules forbid the server. Anything else, the TLS of the tunnel server
 * behind the proxy included, is the server's problem (server-errors.ts),
 * said to have come through the proxy.
 */
import type { ClientRequest } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { ProxyRoute } from './proxy-agent';
import { describeServerError, MAX_UNRESOLVED_ATTEMPTS_AT_START, speaksTlsInstead, type ServerProblem } from './server-errors';

/** What connect.ts makes an AttemptFailure of: a server problem, and whether retrying cannot help. */
interface ProxyProblem extends ServerProblem {
  fatal: boolean;
}

const SEE = 'check --proxy, or HTTPS_PROXY / http_proxy / ALL_PROXY and NO_PROXY';

/** The HTTP proxy's refusal of the CONNECT of `req` to the tunnel server at `url`; undefined when it did not refuse it (or there is none). */
export function proxyRefusal(proxy: { route: ProxyRoute; shown: string } | undefined, req: ClientRequest, url: string): ProxyProblem | undefined {
  const status = proxy?.route.connectStatus(req);
  if (status === undefined || status === 200) return undefined;
  const shown = proxy!.shown;
  // tinyproxy answers wrong credentials with 401, missing ones with 407.
  if (status === 407 || status === 401)
    return {
      fatal: true,
      code: 'ERR_PROXY_REFUSED',
      message: `the proxy at ${shown} refused its credentials (HTTP ${status}) — give them in the proxy URL, http://user:password@host:port (${SEE})`,
    };
  const target = new URL(url).host;
  if (status >= 500 || status === 408 || status === 429)
    return { fatal: false, code: 'ERR_SERVER_UNREACHABLE', message: `the proxy at ${shown} could not reach the tunnel server at ${target} (HTTP ${status})` };
  return {
    fatal: true,
    code: 'ERR_PROXY_REFUSED',
    message: `the proxy at ${shown} refused to connect to the tunnel server at ${target} (HTTP ${status}): its rules must allow CONNECT to that host and port (${SEE})`,
  };
}

/** Why a connection to the tunnel server at `url` failed, through `proxy` when there is one (its port asked whether it speaks TLS instead). Never rejects. */
export async function connectionProblem(err: NodeJS.ErrnoException, url: string, proxy?: { shown: string }, lookup?: LookupFunction): Promise<ProxyProblem> {
  if (proxy) return describeProxyError(err, proxy.shown, url);
  return { fatal: false, ...describeServerError(err, url, await speaksTlsInstead(err, url, lookup)) };
}

/** A network error of an attempt through the proxy `shown` to the tunnel server at `url`. */
function describeProxyError(err: NodeJS.ErrnoException, shown: string, url: string): ProxyProblem {
  const code = err.code ?? '';
  // The proxy itself: connection errors name the proxy's address (https-proxy-agent and socks both connect to it first).
  if (code === 'ECONNREFUSED')
    return { fatal: false, code: 'ERR_PROXY_UNREACHABLE', message: `cannot reach the proxy at ${shown}: connection refused — is it running? ${SEE}` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_NODATA')
    return {
      fatal: false,
      code: 'ERR_PROXY_UNREACHABLE',
      message: `cannot resolve the host of the proxy ${shown} (${code}) — ${SEE}`,
      giveUpAfter: MAX_UNRESOLVED_ATTEMPTS_AT_START,
    };
  // socks' errors carry no code, only their words ("Socks5 Authentication failed", "Socks5 proxy rejected connection - HostUnreachable").
  if (/socks.*authentication failed/i.test(err.message))
    return {
      fatal: true,
      code: 'ERR_PROXY_REFUSED',
      message: `the SOCKS proxy at ${shown} refused its credentials — give them in the proxy URL, socks5://user:password@host:port (${SEE})`,
    };
  // The proxy took none of the methods offered: no authentication, and a user name and password when the URL has one.
  if (/socks5.*no accepted authentication type/i.test(err.message))
    return {
      fatal: true,
      code: 'ERR_PROXY_REFUSED',
      message: new URL(shown).username
        ? `the SOCKS proxy at ${shown} accepts neither no authentication nor a user name and password (RFC 1929), the only methods the agent has (${SEE})`
        : `the SOCKS proxy at ${shown} wants a user name and password — give them in the proxy URL, socks5://user:password@host:port (${SEE})`,
    };
  if (/socks/i.test(err.message))
    return { fatal: false, code: 'ERR_SERVER_UNREACHABLE', message: `the SOCKS proxy at ${shown} did not connect to the tunnel server: ${err.message}` };
  const problem = describeServerError(err, url, false);
  return {
    fatal: false,
    ...problem,
    message: `${problem.message} (through the proxy at ${shown})`,
  };
}
