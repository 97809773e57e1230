/**
 * One connection attempt to the tunnel server: upgrade with the token,
 * `register`, the validated answer; every failure fatal (refused token, not
 * a tunnel server) or retryable, within one deadline.
 */
import WebSocket from 'ws';
import { AGENT_PATH, parseServerMessage, type RegisteredMessage, type RegisterMessage } from '@wingman/protocol';
import { SERVER_MAX_MESSAGE_BYTES } from './constants';
import { maskingOptions } from '../ws-masking';
import type { ClientRequest } from 'node:http';
import type { ProxyRoute } from './proxy-agent';
import { connectionProblem, proxyRefusal } from './proxy-errors';
import { displayServer } from './server-errors';

export interface AttemptFailure {
  /** Retrying cannot help. */
  fatal: boolean;
  /** Before the agent ever registered, give up after this many attempts in a row with this code (unresolvable name, wrong scheme). */
  giveUpAfter?: number;
  /** ERR_TOKEN_REFUSED, ERR_NOT_A_TUNNEL_SERVER, ERR_SERVER_…, ERR_WRONG_SCHEME, ERR_TLS_CERTIFICATE, ERR_TIMEOUT, ERR_PROTOCOL, or the server's `error` code. */
  code: string;
  message: string;
  /** Code and message are the server's `error` message's. */
  serverError?: boolean;
}

interface AttemptOptions {
  url: string;
  token: string;
  register: RegisterMessage;
  timeoutMs: number;
  /** Synchronous, so the caller attaches its frame handling before ws delivers the next message (several may come in one tick). */
  onRegistered(ws: WebSocket, message: RegisteredMessage): void;
  onFailure(failure: AttemptFailure): void;
  /** Errors name the proxy by `shown` (no password). */
  proxy?: { route: ProxyRoute; shown: string };
}

/** `http://host:8080/base` → `ws://host:8080/base/__wingman/agent`. */
export function agentUrl(server: string): string {
  const u = new URL(server);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`server URL must be http:// or https://, got ${u.protocol}`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + AGENT_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** A 404 under a path is most often a wrong path in front of a real tunnel server, which answers at its root. */
function notATunnelServer(url: string, status: number): string {
  const server = displayServer(url);
  const base = new URL(url).pathname.slice(0, -AGENT_PATH.length);
  if (status === 404 && base !== '')
    return `the server at ${server} answered HTTP 404 for ${base}${AGENT_PATH}: no tunnel server under the path "${base}" — check the path in --server (a tunnel server answers at its root, e.g. --server ${server}, unless a proxy maps it under a path)`;
  return `the server at ${server} answered HTTP ${status} to the agent's connection: it is not a Wingman tunnel server, or not with this scheme (http:// vs https://) — check --server`;
}

/** Starts an attempt; returns a function that aborts it (no callback fires after that). */
export function connectOnce(options: AttemptOptions): () => void {
  let settled = false;
  const ws = new WebSocket(options.url, {
    headers: { authorization: `Bearer ${options.token}` },
    handshakeTimeout: options.timeoutMs,
    maxPayload: SERVER_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    followRedirects: false,
    ...maskingOptions(options.url),
    ...(options.proxy ? { agent: options.proxy.route.agent } : {}),
  });
  const timer = setTimeout(
    () => fail({ fatal: false, code: 'ERR_TIMEOUT', message: `no answer from the tunnel server within ${options.timeoutMs / 1000} s` }),
    options.timeoutMs,
  );

  const detach = () => {
    clearTimeout(timer);
    ws.off('open', onOpen);
    ws.off('message', onMessage);
    ws.off('unexpected-response', onUnexpected);
    ws.off('close', onClose);
    // The 'error' listener stays: errors after settling must never crash the process.
  };
  // Whether the attempt was still on.
  const abort = (): boolean => {
    if (settled) return false;
    settled = true;
    detach();
    ws.terminate();
    return true;
  };
  function fail(failure: AttemptFailure): void {
    if (abort()) options.onFailure(failure);
  }
  function onOpen(): void {
    ws.send(JSON.stringify(options.register));
  }
  function onMessage(data: Buffer, isBinary: boolean): void {
    if (settled) return;
    if (isBinary) return fail({ fatal: false, code: 'ERR_PROTOCOL', message: 'the tunnel server sent frames before `registered`' });
    let message;
    try {
      message = parseServerMessage(data.toString('utf8'));
    } catch (err) {
      return fail({ fatal: false, code: 'ERR_PROTOCOL', message: `invalid answer from the tunnel server: ${(err as Error).message}` });
    }
    if (message.type === 'error') return fail({ fatal: true, code: message.code, message: message.message, serverError: true });
    if (message.type !== 'registered')
      return fail({ fatal: false, code: 'ERR_PROTOCOL', message: `the tunnel server sent "${message.type}" before "registered"` });
    settled = true;
    try {
      options.onRegistered(ws, message);
    } finally {
      detach();
    }
  }
  function onUnexpected(req: ClientRequest, res: { statusCode?: number; resume(): void }): void {
    const status = res.statusCode ?? 0;
    res.resume();
    req.destroy();
    const refusal = proxyRefusal(options.proxy, req, options.url);
    if (refusal) return fail(refusal);
    if (status === 401 || status === 403) return fail({ fatal: true, code: 'ERR_TOKEN_REFUSED', message: 'the tunnel server refused the token' });
    if (status >= 500 || status === 408 || status === 429)
      return fail({ fatal: false, code: 'ERR_SERVER_ERROR', message: `the tunnel server answered HTTP ${status}` });
    fail({ fatal: true, code: 'ERR_NOT_A_TUNNEL_SERVER', message: notATunnelServer(options.url, status) });
  }
  function onClose(code: number): void {
    // After an error, ws closes too: the error handler reports (maybe after its TLS probe).
    if (erred) return;
    fail({ fatal: false, code: 'ERR_SERVER_UNREACHABLE', message: `the tunnel server closed the connection during registration (code ${code})` });
  }

  ws.on('open', onOpen);
  ws.on('message', onMessage);
  ws.on('unexpected-response', onUnexpected);
  ws.on('close', onClose);
  let erred = false;
  ws.on('error', (err: NodeJS.ErrnoException) => {
    if (settled || erred) return;
    erred = true;
    // A TLS probe, if any, runs within the attempt's deadline.
    void connectionProblem(err, options.url, options.proxy).then(fail);
  });

  return () => void abort();
}
