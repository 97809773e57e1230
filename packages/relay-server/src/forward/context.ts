/** What every forwarded stream shares: the keep-alive connection pool, the target and the options. */
import type { BufferBudget } from '@wingman/protocol';
import type { AppAddress } from './app-urls';
import type { CaptureOptions } from './capture';
import type { ExchangeClaims } from './exchange-record';
import type { HeaderRules } from './header-rules';
import type { HostHeaderMode, Target, TransportName } from './headers';
import type { Upstream } from './upstream';

/** One line of the request log (the CLI prints it; `--json` emits it as `{"event":"request",...}`). */
export interface RequestLogEntry {
  method: string;
  /** Origin-form request target (path and query). */
  target: string;
  /** Status sent to the viewer; 0 when the stream was reset before any head (see `error`). */
  status: number;
  /** Time from the stream's arrival to its response head (or failure), ms. */
  ms: number;
  transport: TransportName;
  /** ERR_* code when the request failed (reset, local app unreachable, timeout, bad request). */
  error?: string;
  /** The prefix of the route (path mount, routes.ts) that served it, `/api`; absent for the main target. */
  mount?: string;
}

export interface ForwardContext {
  /** Keep-alive connections to the local app, shared by every HTTP stream (upstream.ts). */
  upstream: Upstream;
  /** The local app's origin (`http://host:port`), as the pool dispatches to it. */
  origin: string;
  target: Target;
  hostHeader: HostHeaderMode;
  /** The tunnel's header rules (header-rules.ts); undefined: none. */
  headerRules: HeaderRules | undefined;
  /** The tunnel's loopback routes for the page's shim (app-port.ts appRoutesValue); undefined: none. */
  appRoutes?: string;
  /** The app's own address in response URLs (rewritten to the session origin); undefined with `preserve`. */
  appAddress: AppAddress | undefined;
  timeoutMs: number;
  /** Largest WebSocket message taken from the local app (ws's maxPayload); a larger one closes both legs with 1009. */
  wsMaxMessageBytes: number;
  onRequest: (entry: RequestLogEntry) => void;
  /** The process's budget of bytes held for exchanges that do not move (buffer-budget.ts). */
  budget: BufferBudget;
  /** The inspector's tap; undefined when the inspector is off. */
  capture: CaptureOptions | undefined;
  /** Claims on exchanges with an id (exchange-record.ts); undefined: none kept. */
  exchanges: ExchangeClaims | undefined;
}
