/**
 * The forwarder: serves protocol streams (relay or P2P alike) by forwarding
 * them to the one configured local target (HTTP: http-forward.ts, WebSocket:
 * ws-forward.ts). The request target is origin-form and always sent to that
 * host:port: never an open proxy.
 */
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES, type Stream } from '@wingman/protocol';
import { DEFAULT_RESPONSE_TIMEOUT_MS } from './constants';
import { processBufferBudget } from './buffer-budget';
import { forwardContext } from './context';
import type { TransportName } from './headers';
import { appRoutesValue } from './app-port';
import { forwardHttp } from './http-forward';
import { forwardWebSocket } from './ws-forward';
import { guardExchange } from './exchange-guard';
import { routeFor } from './routes';
import { forwardSettingsSchema, type ForwarderOptions } from './settings';

export { forwardSettingsSchema, requestLogEntrySchema, type ForwardSettings, type ForwarderOptions, type RequestLogEntry } from './settings';
export {
  createBodyTap,
  DEFAULT_CAPTURE_BODY_LIMIT_BYTES,
  MAX_CAPTURE_BODY_LIMIT_BYTES,
  wireCaptureSchema,
  type Capture,
  type CapturedBody,
  type WireCapture,
} from './capture';
export { forwardedRequest, type TransportName } from './headers';
export { formatHostPort, targetOrigin, targetTlsOptions, type HostHeaderMode, type Target } from './target';
export { MAX_ROUTES, routeFor, routePrefixProblem, type RouteSpec } from './routes';
export { DEFAULT_RESPONSE_TIMEOUT_MS } from './constants';
export { createExchangeRecord, type ExchangeClaims, type ExchangeRecord } from './exchange-record';
export { bufferBudgetFromEnv } from './buffer-budget';

export type Forwarder = ReturnType<typeof createForwarder>;

export function createForwarder(options: ForwarderOptions) {
  const hostHeader = options.hostHeader ?? 'rewrite';
  // Settings neither the CLI nor the IPC channel checked (an embedder's) fail here, with a ZodError.
  const {
    routes = [],
    timeoutMs = DEFAULT_RESPONSE_TIMEOUT_MS,
    wsMaxMessageBytes = DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  } = forwardSettingsSchema.parse({ ...options, hostHeader });
  const settings = { ...options, hostHeader, timeoutMs, wsMaxMessageBytes, budget: options.budget ?? processBufferBudget(), appRoutes: appRoutesValue(routes) };
  const main = forwardContext(settings, options.target);
  const mounted = routes.map((r) => ({ prefix: r.prefix, ctx: forwardContext(settings, r.target, r.prefix) }));
  let closed = false;

  return {
    /** Attaches its listeners synchronously; never throws for a bad stream. `viewerId`: the P2P viewer, for the inspector. */
    handleStream(stream: Stream, transport: TransportName, viewerId?: string) {
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
    /** Drops idle upstream sockets; streams in flight end with their connections. */
    close() {
      closed = true;
      for (const ctx of [main, ...mounted.map((m) => m.ctx)]) void ctx.upstream.close().catch(() => undefined);
    },
  };
}
