/**
 * Per-viewer, per-source and per-token quotas: what keeps one viewer, one
 * address or one agent token from taking a session, or the server, offline
 * for everyone else. Each has a default here, an option (`limits` of
 * TunnelServerOptions) and an environment variable; docs/operations.md
 * §Limits lists them with what happens when one is reached.
 */
import { DEFAULT_MAX_CONCURRENT_STREAMS } from '@wingman/protocol';
import { z } from 'zod';

/**
 * Relay streams (HTTP requests and WebSockets) one viewer may have open at
 * once on one session: a quarter of what an agent connection carries
 * (DEFAULT_MAX_CONCURRENT_STREAMS = 1 024), and less once other viewers
 * hold streams (sessions/fair-share.ts). A browser opens 6 connections per
 * host over HTTP/1.1 and a few WebSockets; 256 is far beyond any real page.
 */
export const DEFAULT_MAX_STREAMS_PER_VIEWER = DEFAULT_MAX_CONCURRENT_STREAMS / 4;
/**
 * A relayed WebSocket with no message either way for this long is closed
 * (1001). Generous: a dev server's HMR socket is quiet while nobody edits,
 * and browsers reconnect it; 10 min frees what an idle tab (or an attacker's
 * idle sockets) would hold forever.
 */
export const DEFAULT_WS_IDLE_TIMEOUT_MS = 600_000;
/** Live sessions one agent token may hold at once: a team's laptops and CI jobs, far below a flood. */
export const DEFAULT_MAX_SESSIONS_PER_TOKEN = 100;
/**
 * Concurrent TCP connections from one source address (IPv6: one /64). A
 * browser opens ≤ 6 per host and a few per session origin; 256 leaves room
 * for a whole office behind one NAT address while one host cannot exhaust
 * the server's file descriptors.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/** Live WebSocket tickets per session: a page opens a few WebSockets at once (HMR, an app socket). */
export const DEFAULT_MAX_WS_TICKETS_PER_SESSION = 32;
/**
 * Signaling sockets one viewer address may hold per session (one per tab):
 * a session takes 64 signaling viewers, and one address must not take them
 * all; fewer once other addresses hold some (sessions/fair-share.ts).
 */
export const DEFAULT_MAX_SIGNALING_PER_VIEWER = 8;
/**
 * Failed agent authentications (wrong or missing token) per source address
 * and minute before that source gets 429 until the minute ends. A mistyped
 * token fails a few times; guessing a 128-bit token needs ~2^127 tries.
 */
export const DEFAULT_MAX_AGENT_AUTH_FAILURES = 10;
/**
 * File descriptors kept free below the process's limit (RLIMIT_NOFILE):
 * past `limit − reserve` open connections, new connections may only ask
 * for /healthz, so health checks and running sessions keep working while a
 * flood of connections is refused.
 */
export const DEFAULT_FD_RESERVE = 64;
/**
 * A connection whose first request head has not arrived this long after it
 * was accepted (TLS handshake included) is closed. Node's own header timeout
 * only starts with a request's first byte, so a connection that never sends
 * one held a descriptor until much later; a browser sends its request
 * within moments of connecting (a speculative preconnect waits ~10 s at most).
 */
export const DEFAULT_HEADER_TIMEOUT_MS = 30_000;
/**
 * Bytes the server holds for viewers across all connections (unfinished
 * WebSocket messages, uploads the app does not read, downloads the viewer
 * does not read): 64 MiB is 64
 * WebSocket messages at the default 1 MiB cap in flight at once, while a
 * flood of sockets that never finish a message, of uploads nobody reads or
 * of downloads nobody reads, cannot take the process past it (@wingman/protocol's buffer-budget.ts).
 */
export const DEFAULT_VIEWER_BUFFER_BUDGET_BYTES = 64 * 1024 * 1024;

export interface LimitOptions {
  /** Concurrent relay streams per viewer address and session (at most its fair share). Default 256. */
  streamsPerViewer?: number;
  /** Idle time (no message either way) after which a relayed WebSocket is closed, ms; 0 never. Default 600000. */
  wsIdleTimeoutMs?: number;
  /** Live sessions per agent token. Default 100. */
  sessionsPerToken?: number;
  /** Concurrent TCP connections per source address (IPv6: /64); 0 unlimited. Default 256. Not applied behind trusted proxies nor in a cluster. */
  connectionsPerAddress?: number;
  /** Live WebSocket tickets per session. Default 32. */
  wsTicketsPerSession?: number;
  /** Signaling sockets per viewer address and session (at most its fair share). Default 8. */
  signalingPerViewer?: number;
  /** Failed agent authentications per source address and minute before 429. Default 10. */
  agentAuthFailures?: number;
  /** File descriptors kept for health checks below the process limit. Default 64. */
  fdReserve?: number;
  /** Time from accepting a connection to its first request head, ms, before it is closed. Default 30000. */
  headerTimeoutMs?: number;
  /** Bytes held for viewers across all connections before the longest holders are refused. Default 64 MiB. */
  viewerBufferBudgetBytes?: number;
}

const count = (max: number) => z.number().int().min(1).max(max);

export const limitsSchema = z
  .object({
    streamsPerViewer: count(DEFAULT_MAX_CONCURRENT_STREAMS).default(DEFAULT_MAX_STREAMS_PER_VIEWER),
    wsIdleTimeoutMs: z.number().int().min(0).max(86_400_000).default(DEFAULT_WS_IDLE_TIMEOUT_MS),
    sessionsPerToken: count(1_000_000).default(DEFAULT_MAX_SESSIONS_PER_TOKEN),
    connectionsPerAddress: z.number().int().min(0).max(1_000_000).default(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    wsTicketsPerSession: count(1_024).default(DEFAULT_MAX_WS_TICKETS_PER_SESSION),
    signalingPerViewer: count(1_024).default(DEFAULT_MAX_SIGNALING_PER_VIEWER),
    agentAuthFailures: count(1_000_000).default(DEFAULT_MAX_AGENT_AUTH_FAILURES),
    fdReserve: z.number().int().min(16).max(1_000_000).default(DEFAULT_FD_RESERVE),
    headerTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_HEADER_TIMEOUT_MS),
    viewerBufferBudgetBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .max(2 ** 40)
      .default(DEFAULT_VIEWER_BUFFER_BUDGET_BYTES),
  })
  .strict();

export type Limits = z.output<typeof limitsSchema>;

/** Environment variable of each limit (flags: none; these are tuning knobs). */
export const LIMIT_ENV: Record<keyof Limits, string> = {
  streamsPerViewer: 'MAX_STREAMS_PER_VIEWER',
  wsIdleTimeoutMs: 'WS_IDLE_TIMEOUT_MS',
  sessionsPerToken: 'MAX_SESSIONS_PER_TOKEN',
  connectionsPerAddress: 'MAX_CONNECTIONS_PER_ADDRESS',
  wsTicketsPerSession: 'MAX_WS_TICKETS_PER_SESSION',
  signalingPerViewer: 'MAX_SIGNALING_PER_VIEWER',
  agentAuthFailures: 'MAX_AGENT_AUTH_FAILURES',
  fdReserve: 'FD_RESERVE',
  headerTimeoutMs: 'HEADER_TIMEOUT_MS',
  viewerBufferBudgetBytes: 'VIEWER_BUFFER_BUDGET_BYTES',
};
