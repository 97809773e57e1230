/** What every forwarded stream of one target shares: the keep-alive connection pool, the target and the forwarder's settings. */
import type { BufferBudget } from '@wingman/protocol';
import { z } from 'zod';
import { afterSend } from './after-send';
import { appAddress } from './app-urls';
import { agentUnderLoad } from './buffer-budget';
import type { Capture } from './capture';
import type { ForwarderOptions } from './index';
import { createUpstream } from './upstream';
import { targetOrigin, targetTlsOptions, type HostHeaderMode, type Target } from './target';

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

/** The forwarder's options with its defaults applied; `appRoutes`: for the page's shim (app-port.ts). */
type ContextSettings = ForwarderOptions & {
  hostHeader: HostHeaderMode;
  timeoutMs: number;
  wsMaxMessageBytes: number;
  budget: BufferBudget;
  appRoutes?: string;
};

/** The context of `target`'s streams; `mount`: its route's prefix, which names its log lines and captures. */
export function forwardContext(settings: ContextSettings, target: Target, mount?: string) {
  const { onRequest, capture, budget } = settings;
  const origin = targetOrigin(target);
  const named = <T extends object>(o: T): T => (mount === undefined ? o : { ...o, mount });
  return {
    // The settings (Host policy, header rules, timeouts, budget, exchange claims) as given, for this target.
    ...settings,
    // Keep-alive, shared by every HTTP stream: a TCP handshake per small request costs (upstream.ts).
    upstream: createUpstream(origin, targetTlsOptions(target)),
    /** `http://host:port`. */
    origin,
    target,
    /** Rewritten to the session origin in response URLs; undefined with `preserve`. */
    appAddress: appAddress(target, settings.hostHeader),
    // Both run after the response's frames are sent (after-send.ts): neither may delay a response.
    onRequest: (entry: RequestLogEntry) => {
      if (onRequest) afterSend(() => onRequest(named(entry)));
    },
    /** Undefined when the inspector is off. */
    capture: capture && {
      bodyLimitBytes: capture.bodyLimitBytes,
      onCapture: (c: Capture) => afterSend(() => capture.onCapture(named(c))),
      underLoad: () => agentUnderLoad(budget),
    },
  };
}

export type ForwardContext = ReturnType<typeof forwardContext>;
