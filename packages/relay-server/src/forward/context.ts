/** What every forwarded stream shares: the keep-alive connection pool, the target and the options. */
import type { BufferBudget } from '@wingman/protocol';
import { z } from 'zod';
import type { AppAddress } from './app-urls';
import type { CaptureOptions } from './capture';
import type { ExchangeClaims } from './exchange-record';
import type { HeaderRules } from './header-rules';
import type { HostHeaderMode, Target } from './target';
import type { Upstream } from './upstream';

/** One line of the request log (`--json`: `{"event":"request",...}`). */
export const requestLogEntrySchema = z.object({
  method: z.string().min(1).max(64),
  target: z.string().max(65_536),
  /** 0 when the stream was reset before any head (see `error`). */
  status: z.number().int().min(0).max(999),
  /** Arrival to response head (or failure), ms. */
  ms: z.number().finite().nonnegative(),
  transport: z.enum(['relay', 'p2p']),
  /** When the request failed. */
  error: z.string().max(64).optional(),
  /** The route prefix (routes.ts), `/api`; absent for the main target. */
  mount: z.string().max(256).optional(),
});

export type RequestLogEntry = z.infer<typeof requestLogEntrySchema>;

export interface ForwardContext {
  /** Shared by every HTTP stream (upstream.ts). */
  upstream: Upstream;
  /** `http://host:port`. */
  origin: string;
  target: Target;
  hostHeader: HostHeaderMode;
  headerRules: HeaderRules | undefined;
  /** For the page's shim (app-port.ts). */
  appRoutes?: string;
  /** Rewritten to the session origin in response URLs; undefined with `preserve`. */
  appAddress: AppAddress | undefined;
  timeoutMs: number;
  /** ws's maxPayload; a larger message closes both legs with 1009. */
  wsMaxMessageBytes: number;
  onRequest: (entry: RequestLogEntry) => void;
  budget: BufferBudget;
  /** Undefined when the inspector is off. */
  capture: CaptureOptions | undefined;
  exchanges: ExchangeClaims | undefined;
}
