/** Limits and timeouts of the forwarder, with their unit in the name. */

/**
 * Wait for the app's response head or WebSocket handshake before a 504 (with
 * a body: from its latest chunk). Dev servers compile on the first request
 * (10–40 s cold), so generous; `--timeout`. Bodies have no idle timeout (SSE).
 */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;

/**
 * After the response ended, how long the rest of the request body is read and
 * dropped before a reset: a reset at once could overtake queued response frames.
 */
export const REQUEST_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Bytes held process-wide for exchanges that do not move (a download a viewer
 * stopped reading, an upload the app does not read): without a bound a
 * thousand of them took the agent past 1 GB. Past it, the exchange stalled the
 * longest is refused (503 before the head, else RESET ERR_OVERLOADED). An
 * eighth of the server's VIEWER_BUFFER_BUDGET_BYTES, so that with the
 * inspector's captures all stays within ~200 MB: under 1 000 paused downloads
 * (test/integration/viewer-memory.test.ts) RSS grew 165–180 MB with 32 MiB,
 * 130–170 MB with 16 MiB, 115–120 MB with this. Still ~20 stalled downloads.
 */
export const AGENT_BUFFER_BUDGET_BYTES = 8 * 1024 * 1024;

/** Idle sockets to the app are dropped before Node servers' 5 s keepAliveTimeout closes them (reusing one: ECONNRESET). */
export const UPSTREAM_KEEP_ALIVE_IDLE_MS = 4_000;

/** The viewer's WebSocket stream pauses while the local socket buffers more than this, resumes below half. */
export const WS_HIGH_WATER_BYTES = 1024 * 1024;

/** After the local close went to the viewer, how long it gets to answer with its own close before a reset. */
export const VIEWER_WS_CLOSE_REPLY_TIMEOUT_MS = 10_000;
