/**
 * The forwarder: serves protocol streams (from the relay or a P2P data
 * channel alike) by forwarding them to the one configured local target.
 * HTTP goes through an undici Pool (http-forward.ts says why not
 * http-proxy), WebSockets through a `ws` client. The
 * request target is origin-form and always sent to that host:port, so the
 * agent is never an open proxy.
 */
import type { HeaderRules } from './header-rules';
import { createUpstream } from './upstream';
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES, MAX_WS_MESSAGE_BYTES, type BufferBudget, type Stream } from '@wingman/protocol';
import { DEFAULT_RESPONSE_TIMEOUT_MS } from './constants';
import { agentUnderLoad, processBufferBudget } from './buffer-budget';
import type { CaptureOptions } from './capture';
import type { ForwardContext, RequestLogEntry } from './context';
import type { ExchangeClaims } from './exchange-record';
import type { HostHeaderMode, Target, TransportName } from './headers';
import { appAddress } from './app-urls';
import { appRoutesValue } from './app-port';
import { targetOrigin, targetTlsOptions } from './target';
import { forwardHttp } from './http-forward';
import { forwardWebSocket } from './ws-forward';
import { afterSend } from './after-send';
import { guardExchange } from './exchange-guard';
import { MAX_ROUTES, routeFor, routePrefixProblem, type RouteSpec } from './routes';

export type { RequestLogEntry } from './context';
export { createBodyTap, DEFAULT_CAPTURE_BODY_LIMIT_BYTES, MAX_CAPTURE_BODY_LIMIT_BYTES, type Capture, type CapturedBody, type CaptureOptions } from './capture';
export { requestHeaders } from './headers';
export type { HostHeaderMode, Target, TransportName } from './headers';
export { formatHostPort, targetOrigin, targetTlsOptions } from './target';
export { MAX_ROUTES, routeFor, routePrefixProblem, type RouteSpec } from './routes';
export { DEFAULT_RESPONSE_TIMEOUT_MS } from './constants';
export { createExchangeRecord, type ExchangeClaims, type ExchangeRecord } from './exchange-record';
export { bufferBudgetFromEnv } from './buffer-budget';

export interface ForwarderOptions {
  /** The local app. Every request goes here, whatever its head says. */
  target: Target;
  /** Host header towards the app: 'rewrite' (default: the target's host:port), 'preserve' (the viewer's), or an explicit value. */
  hostHeader?: HostHeaderMode;
  /** Wait for the app's response head or WebSocket handshake before a 504, ms. Default DEFAULT_RESPONSE_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * Largest WebSocket message taken from the local app, bytes (1 … MAX_WS_MESSAGE_BYTES).
   * Default DEFAULT_WS_MESSAGE_LIMIT_BYTES (1 MiB). The viewers' direction is
   * capped by the Connection's maxWsMessageBytes (agent, P2P host).
   */
  wsMaxMessageBytes?: number;
  /** Called once per stream when its status is known (for the request log). Must not throw. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Capture each exchange for the inspector (heads, bodies up to a cap). Default off. */
  capture?: CaptureOptions;
  /** The tunnel's header rules (header-rules.ts); undefined: none. */
  headerRules?: HeaderRules;
  /** Path mounts: requests under a route's prefix go to its target instead (routes.ts). Default none. */
  routes?: readonly RouteSpec[];
  /**
   * Claims on exchanges with an id (exchange-record.ts): the agent's record,
   * or the P2P host's way to it; a request whose claim another copy of it
   * won is refused, not forwarded. Default none: every request is forwarded.
   */
  exchanges?: ExchangeClaims;
  /** Budget of bytes held for exchanges that do not move. Default: the process's one (buffer-budget.ts; every forwarder of the process shares it). */
  budget?: BufferBudget;
}

export interface Forwarder {
  /**
   * Serves one stream a peer opened. Attaches its listeners synchronously; never throws for a bad stream.
   * `viewerId`: the P2P viewer that opened it, for the inspector.
   */
  handleStream(stream: Stream, transport: TransportName, viewerId?: string): void;
  /** Drops idle upstream sockets. Streams in flight end with their connections. */
  close(): void;
}

function checkTarget(target: Target): void {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new RangeError(`target port ${target.port} out of range`);
  if (!target.host) throw new RangeError('target host is empty');
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const routes = options.routes ?? [];
  for (const t of [options.target, ...routes.map((r) => r.target)]) checkTarget(t);
  for (const r of routes) {
    const problem = routePrefixProblem(r.prefix);
    if (problem) throw new RangeError(`route prefix ${JSON.stringify(r.prefix)}: ${problem}`);
  }
  if (routes.length > MAX_ROUTES) throw new RangeError(`${routes.length} routes: at most ${MAX_ROUTES}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs ${timeoutMs} must be a positive integer`);
  const wsMaxMessageBytes = options.wsMaxMessageBytes ?? DEFAULT_WS_MESSAGE_LIMIT_BYTES;
  if (!Number.isInteger(wsMaxMessageBytes) || wsMaxMessageBytes < 1 || wsMaxMessageBytes > MAX_WS_MESSAGE_BYTES) {
    throw new RangeError(`wsMaxMessageBytes ${wsMaxMessageBytes} out of range (1 … ${MAX_WS_MESSAGE_BYTES})`);
  }
  const hostHeader = options.hostHeader ?? 'rewrite';
  const budget = options.budget ?? processBufferBudget();
  const appRoutes = appRoutesValue(routes);

  /** Everything the streams of one target share; `mount`: its route's prefix, named in the request log and the captures. */
  const contextFor = (target: Target, mount?: string): ForwardContext => {
    // Keep-alive to the local app (upstream.ts): a fresh TCP connection per request would
    // cost a handshake on every small request (see UPSTREAM_KEEP_ALIVE_IDLE_MS).
    const origin = targetOrigin(target);
    const named = <T extends object>(o: T): T => (mount === undefined ? o : { ...o, mount });
    return {
      upstream: createUpstream(origin, { tls: targetTlsOptions(target) }),
      origin,
      target,
      hostHeader,
      appAddress: appAddress(target, hostHeader),
      ...(appRoutes === undefined ? {} : { appRoutes }),
      headerRules: options.headerRules,
      timeoutMs,
      wsMaxMessageBytes,
      budget,
      exchanges: options.exchanges,
      // Both run after the response's frames are sent (after-send.ts): neither may delay a response.
      onRequest: (entry) => {
        if (options.onRequest) afterSend(() => options.onRequest?.(named(entry)));
      },
      capture: options.capture && {
        bodyLimitBytes: options.capture.bodyLimitBytes,
        onCapture: (c) => afterSend(() => options.capture?.onCapture(named(c))),
        underLoad: () => agentUnderLoad(budget),
      },
    };
  };
  const main = contextFor(options.target);
  const mounted = routes.map((r) => ({ prefix: r.prefix, ctx: contextFor(r.target, r.prefix) }));
  let closed = false;

  return {
    handleStream(stream, transport, viewerId) {
      if (closed) return void stream.reset('ERR_GOING_AWAY', 'agent is shutting down');
      // A throw while serving it (a bug, not bad input) fails this stream only, and says so on stderr (exchange-guard.ts).
      const guard = guardExchange(stream);
      try {
        const ctx = routeFor(stream.head.target, mounted)?.ctx ?? main;
        if (stream.kind === 'ws') forwardWebSocket(stream, transport, ctx, guard, viewerId);
        else forwardHttp(stream, transport, ctx, guard, viewerId);
      } catch (err) {
        guard.fail(err);
      }
    },
    close() {
      closed = true;
      for (const ctx of [main, ...mounted.map((m) => m.ctx)]) void ctx.upstream.close().catch(() => undefined);
    },
  };
}
