/** What every forwarded stream of one target shares: the keep-alive connection pool, the target and the forwarder's settings. */
import type { BufferBudget } from '@wingman/protocol';
import { afterSend } from './after-send';
import { appAddress } from './app-urls';
import { agentUnderLoad } from './buffer-budget';
import type { Capture } from './capture';
import type { TransportName } from './headers';
import type { ForwarderOptions, RequestLogEntry } from './settings';
import { createUpstream } from './upstream';
import { targetOrigin, targetTlsOptions, type HostHeaderMode, type Target } from './target';

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

/** Logs the exchange the first time it is called; later calls do nothing. */
export function logOnce(
  ctx: ForwardContext,
  exchange: { method: string; target: string; transport: TransportName; started: number },
): (status: number, error?: string) => void {
  let logged = false;
  return (status, error) => {
    if (logged) return;
    logged = true;
    const { method, target, transport, started } = exchange;
    ctx.onRequest({ method, target, status, ms: Math.round(performance.now() - started), transport, ...(error ? { error } : {}) });
  };
}
