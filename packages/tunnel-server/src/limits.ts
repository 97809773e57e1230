/**
 * Per-viewer, per-source and per-token quotas: what keeps one viewer, address or agent token from taking a session,
 * or the server, offline for everyone else. docs/operations.md §Limits lists each with what happens when it is
 * reached; each has an option (`limits`) and a variable (LIMIT_ENV).
 */
import { DEFAULT_MAX_CONCURRENT_STREAMS } from '@wingman/protocol';
import { z } from 'zod';

/**
 * Relay streams one viewer may have open at once on one session: a quarter of an agent connection's, less once other
 * viewers hold streams (sessions/fair-share.ts). A browser's 6 connections per host are far below it.
 */
export const DEFAULT_MAX_STREAMS_PER_VIEWER = DEFAULT_MAX_CONCURRENT_STREAMS / 4;
/** A relayed WebSocket quiet either way this long is closed (1001): an HMR socket is quiet while nobody edits, and browsers reconnect it. */
export const DEFAULT_WS_IDLE_TIMEOUT_MS = 600_000;
/** Live sessions one agent token may hold at once: a team's laptops and CI jobs, far below a flood. */
export const DEFAULT_MAX_SESSIONS_PER_TOKEN = 100;
/** Concurrent TCP connections from one source address (IPv6: one /64): room for an office behind one NAT, not for one host to exhaust descriptors. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/** Live WebSocket tickets per session: a page opens a few WebSockets at once (HMR, an app socket). */
export const DEFAULT_MAX_WS_TICKETS_PER_SESSION = 32;
/** Signaling sockets one viewer address may hold per session (one per tab) of the session's 64; fewer once others hold some. */
export const DEFAULT_MAX_SIGNALING_PER_VIEWER = 8;
/** Failed agent authentications per source address and minute before 429: a mistyped token fails a few times. */
export const DEFAULT_MAX_AGENT_AUTH_FAILURES = 10;
/** File descriptors kept free below RLIMIT_NOFILE: past `limit − reserve`, new connections may only ask for /healthz. */
export const DEFAULT_FD_RESERVE = 64;
/**
 * A connection whose first request head has not arrived this long after accept (TLS included) is closed: Node's own
 * header timeout starts only with a request's first byte. A speculative preconnect waits ~10 s at most.
 */
export const DEFAULT_HEADER_TIMEOUT_MS = 30_000;
/**
 * Bytes held for viewers across all connections (unfinished WebSocket messages, unread uploads and downloads): 64
 * messages at the default 1 MiB cap, while a flood cannot take the process past it (protocol's buffer-budget.ts).
 */
export const DEFAULT_VIEWER_BUFFER_BUDGET_BYTES = 64 * 1024 * 1024;

const count = (max: number) => z.number().int().min(1).max(max);

export const limitsSchema = z
  .object({
    /** Concurrent relay streams per viewer address and session (at most its fair share). */
    streamsPerViewer: count(DEFAULT_MAX_CONCURRENT_STREAMS).default(DEFAULT_MAX_STREAMS_PER_VIEWER),
    /** Idle time after which a relayed WebSocket is closed, ms; 0 never. */
    wsIdleTimeoutMs: z.number().int().min(0).max(86_400_000).default(DEFAULT_WS_IDLE_TIMEOUT_MS),
    sessionsPerToken: count(1_000_000).default(DEFAULT_MAX_SESSIONS_PER_TOKEN),
    /** 0 unlimited. Not applied behind trusted proxies nor in a cluster. */
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
