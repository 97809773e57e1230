/**
 * Why the tunnel server could not be reached, in words that say what to do,
 * and whether waiting can help (a refused connection heals; an unresolvable
 * name or the wrong scheme does not). Shared with `wingman fetch`.
 */
import type { LookupFunction, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isCertificateError } from '../forward/error-page';

/** Attempts in a row that fail to resolve the server's name, before the agent ever registered, after which it gives up (a typo stays a typo; a short DNS hiccup at start is forgiven). */
export const MAX_UNRESOLVED_ATTEMPTS_AT_START = 4;
/** A TLS server answers a ClientHello at once, ms. */
const TLS_PROBE_TIMEOUT_MS = 2_000;

export interface ServerProblem {
  /** Stable code: ERR_SERVER_REFUSED, ERR_SERVER_NOT_FOUND, ERR_WRONG_SCHEME, ERR_TLS_CERTIFICATE, ERR_SERVER_UNREACHABLE. */
  code: string;
  message: string;
  /** Attempts in a row before the first registration after which waiting is pointless; undefined: it may heal. */
  giveUpAfter?: number;
}

/** `wss://h:1/base/__wingman/agent` → `https://h:1`, as the user named it. */
export function displayServer(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https' : 'http';
  return `${scheme}://${u.host}`;
}

/** The same server with the other scheme, for the hint. */
function otherScheme(server: string): string {
  return server.startsWith('https:') ? `http:${server.slice('https:'.length)}` : `https:${server.slice('http:'.length)}`;
}

/**
 * Names a network error of a request to `url` (http(s) or ws(s)). A reset
 * from a plain-HTTP URL may be a TLS server hanging up on a plain request:
 * `speaksTls` (from speaksTlsInstead) tells.
 */
export function describeServerError(err: NodeJS.ErrnoException, url: string, speaksTls = false): ServerProblem {
  const server = displayServer(url);
  const host = new URL(url).hostname;
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') {
    return { code: 'ERR_SERVER_REFUSED', message: `cannot reach the tunnel server at ${server}: connection refused — is it running? check --server` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA' || code === 'EAI_NONAME') {
    return {
      code: 'ERR_SERVER_NOT_FOUND',
      message: `cannot resolve host ${host} (${code}) — check --server${code === 'EAI_AGAIN' ? ' and your network' : ''}`,
      giveUpAfter: MAX_UNRESOLVED_ATTEMPTS_AT_START,
    };
  }
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|unknown protocol/i.test(err.message)) {
    return {
      code: 'ERR_WRONG_SCHEME',
      message: `the server at ${server} does not speak TLS (https) — check the scheme: try ${otherScheme(server)}`,
      giveUpAfter: 1,
    };
  }
  if (isCertificateError(code)) {
    return {
      code: 'ERR_TLS_CERTIFICATE',
      message: `the TLS certificate of ${server} is not trusted (${err.message}) — check --server, or give Node your CA with NODE_EXTRA_CA_CERTS`,
      giveUpAfter: 1,
    };
  }
  if (speaksTls) {
    return {
      code: 'ERR_WRONG_SCHEME',
      message: `the server at ${server} speaks TLS (https), not plain http — check the scheme: try ${otherScheme(server)}`,
      giveUpAfter: 1,
    };
  }
  return { code: 'ERR_SERVER_UNREACHABLE', message: `cannot reach the tunnel server at ${server} (${code || err.message})` };
}

/**
 * Whether `err`, a reset of a plain (http, ws) connection to `url`, came from a TLS server hanging up on it:
 * its port completes a TLS handshake (any certificate). Never rejects.
 */
export function speaksTlsInstead(err: NodeJS.ErrnoException, url: string, lookup?: LookupFunction): Promise<boolean> {
  const u = new URL(url);
  const reset = err.code === 'ECONNRESET' || /socket hang up/i.test(err.message);
  if ((u.protocol !== 'ws:' && u.protocol !== 'http:') || !reset) return Promise.resolve(false);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const socket = tlsConnect({
    host,
    port: Number(u.port || 80),
    rejectUnauthorized: false,
    ...(lookup ? { lookup } : {}),
    ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }),
  });
  return reaches(socket, 'secureConnect', TLS_PROBE_TIMEOUT_MS);
}

/** Whether `socket` gets to `event` ('connect', 'secureConnect') within `timeoutMs`; destroyed either way. Never rejects. */
export function reaches(socket: Socket, event: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once(event, () => done(true));
    socket.once('error', () => done(false));
  });
}
