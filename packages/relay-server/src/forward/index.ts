/**
 * The forwarder: serves protocol streams (relay or P2P alike) by forwarding
 * them to the one configured local target (HTTP: http-forward.ts, WebSocket:
 * ws-forward.ts). The request target is origin-form and always sent to that
 * host:port: never an open proxy.
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
  /** Every request goes here, whatever its head says. */
  target: Target;
  /** 'rewrite' (default: the target's host:port), 'preserve' (the viewer's), or an explicit value. */
  hostHeader?: HostHeaderMode;
  /** Before a 504, ms. */
  timeoutMs?: number;
  /** Largest WebSocket message taken from the app (the viewers' way: the Connection's maxWsMessageBytes). Default 1 MiB. */
  wsMaxMessageBytes?: number;
  /** Once per stream when its status is known. Must not throw. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Default off. */
  capture?: CaptureOptions;
  headerRules?: HeaderRules;
  /** Path mounts (routes.ts). */
  routes?: readonly RouteSpec[];
  /** The agent's record of exchange claims, or the P2P host's way to it (exchange-record.ts). Default: every request is forwarded. */
  exchanges?: ExchangeClaims;
  /** Default: the process's one (buffer-budget.ts). */
  budget?: BufferBudget;
}

export interface Forwarder {
  /** Attaches its listeners synchronously; never throws for a bad stream. `viewerId`: the P2P viewer, for the inspector. */
  handleStream(stream: Stream, transport: TransportName, viewerId?: string): void;
  /** Drops idle upstream sockets; streams in flight end with their connections. */
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

  /** What the streams of one target share; `mount`: its route's prefix. */
  const contextFor = (target: Target, mount?: string): ForwardContext => {
    // Keep-alive: a TCP handshake per small request costs (upstream.ts).
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
      // A throw while serving it (a bug) fails this stream only (exchange-guard.ts).
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
