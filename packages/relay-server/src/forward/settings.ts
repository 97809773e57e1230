/** The forwarder's settings: what a tunnel's forwarders are given (the P2P host's over IPC), and the request log line they report. */
import { z } from 'zod';
import { MAX_WS_MESSAGE_BYTES, type BufferBudget } from '@wingman/protocol';
import type { CaptureOptions } from './capture';
import type { ExchangeClaims } from './exchange-record';
import { headerRulesSchema } from './header-rules';
import { MAX_ROUTES, routeSpecSchema } from './routes';
import { targetSchema, type HostHeaderMode } from './target';

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

/** A tunnel's app and how it is reached: its forwarders' (the P2P host's over IPC, host-ipc.ts) and the inspector's replays'. */
export const forwardSettingsSchema = z.object({
  /** Every request goes here, whatever its head says. */
  target: targetSchema,
  /** Path mounts (routes.ts). */
  routes: z.array(routeSpecSchema).max(MAX_ROUTES).optional(),
  /** 'rewrite' (the target's host:port), 'preserve' (the viewer's), or an explicit value. */
  hostHeader: z.string().max(1024),
  /** Before a 504, ms. */
  timeoutMs: z.number().int().positive().optional(),
  /** Largest WebSocket message taken from the app (the viewers' way: the Connection's maxWsMessageBytes). Default 1 MiB. */
  wsMaxMessageBytes: z.number().int().min(1).max(MAX_WS_MESSAGE_BYTES).optional(),
  headerRules: headerRulesSchema.optional(),
});

export type ForwardSettings = z.infer<typeof forwardSettingsSchema>;

export interface ForwarderOptions extends Omit<ForwardSettings, 'hostHeader'> {
  /** Default 'rewrite'. */
  hostHeader?: HostHeaderMode;
  /** Once per stream when its status is known. Must not throw. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Default off. */
  capture?: CaptureOptions;
  /** The agent's record of exchange claims, or the P2P host's way to it (exchange-record.ts). Default: every request is forwarded. */
  exchanges?: ExchangeClaims;
  /** Default: the process's one (buffer-budget.ts). */
  budget?: BufferBudget;
}
