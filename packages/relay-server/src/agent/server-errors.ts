/**
 * Why the tunnel server could not be reached, in words that say what to do,
 * and whether waiting can help (a refused connection heals; an unresolvable
 * name or the wrong scheme does not). Shared with `wingman fetch`.
 */
import type { LookupFunction, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

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

const TLS_CERT_CODES =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_UNTRUSTED|CERT_REJECTED)$/;

/**
 * Names a network error of a request to `url` (http(s) or ws(s)). A reset
 * from a plain-HTTP URL may be a TLS server hanging up on a plain request:
 * `speaksTls` (from probeTls) tells.
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
  if (TLS_CERT_CODES.test(code)) {
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

export function mayBeTlsServer(err: NodeJS.ErrnoException, url: string): boolean {
  const u = new URL(url);
  return (u.protocol === 'ws:' || u.protocol === 'http:') && (err.code === 'ECONNRESET' || /socket hang up/i.test(err.message));
}

/** Whether host:port completes a TLS handshake (any certificate): the server speaks https. Never rejects. */
export function probeTls(url: string, options: { timeoutMs?: number; lookup?: LookupFunction } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? TLS_PROBE_TIMEOUT_MS;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const socket = tlsConnect({
    host,
    port,
    rejectUnauthorized: false,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }),
  });
  return reaches(socket, 'secureConnect', timeoutMs);
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
