/** Limits and timeouts of the forwarder, with their unit in the name. */

/**
 * Default wait for the local app's response head (HTTP) or WebSocket
 * handshake before the viewer gets a 504; for a request with a body, counted
 * from the latest body chunk (an upload may take longer). Dev servers compile on the first
 * request (Next.js, webpack: often 10–40 s on a cold start), so this is
 * generous; `--timeout` changes it. Bodies have no idle timeout: SSE and
 * long-polling streams are legitimately silent for minutes.
 */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;

/**
 * After the response ended, how long the rest of an unfinished request body
 * is read and dropped before the stream is reset. A reset sent at once could
 * overtake response frames still queued (control frames go first), so the
 * body gets this long to finish naturally.
 */
export const REQUEST_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Bytes the agent holds, all its streams and connections together, for
 * exchanges that do not move: a response body queued for a peer that grants
 * no more credit (a viewer that stopped reading a download), a request body
 * queued for a local app that does not read it. Each such exchange holds up
 * to a few MiB (the stream's queue or the request's buffer, plus the credit
 * the peer may still spend), so without a process-wide bound a thousand of
 * them took the agent past 1 GB. Past the budget, the exchange that has held
 * its bytes the longest without progress (a peer that takes some of the queue
 * is progress) is refused: a 503 page before the response head,
 * else a RESET with ERR_OVERLOADED. Exchanges that keep moving never hold
 * for long. An eighth of the tunnel server's VIEWER_BUFFER_BUDGET_BYTES: the
 * agent also keeps the inspector's captures (CAPTURE_IN_FLIGHT_BUDGET_BYTES,
 * INSPECT_STORE_MAX_BYTES), and all of it must stay within ~200 MB. What the
 * budget holds costs the process far more than its bytes (each held download
 * also keeps its socket to the app and its read-ahead, and the allocator keeps
 * what a thousand refused ones churned through): under 1 000 paused downloads
 * (test/integration/viewer-memory.test.ts) the agent's RSS grew 165–180 MB
 * with 32 MiB, 130–170 MB with 16 MiB, 115–120 MB with this, whether the
 * inspector runs or not. Still some 20 stalled downloads or 2–6 stalled
 * uploads at once.
 */
export const AGENT_BUFFER_BUDGET_BYTES = 8 * 1024 * 1024;

/**
 * Idle keep-alive sockets to the local app are dropped after this long.
 * Node's http server (Vite, webpack, Express) closes idle sockets after
 * 5 s (server.keepAliveTimeout); closing ours first avoids reusing a socket
 * the server is closing (ECONNRESET). Node's agent also honours a
 * `Keep-Alive: timeout=N` hint from the server.
 */
export const UPSTREAM_KEEP_ALIVE_IDLE_MS = 4_000;

/**
 * The forwarder pauses the viewer's WebSocket stream while the local socket
 * buffers more than this, and resumes below half of it.
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md#websocketbufferedamount
 */
export const WS_HIGH_WATER_BYTES = 1024 * 1024;

/** Response headers naming the path that served a request and why (see docs/cli.md, "X-Wingman-Transport"); defined by the protocol. */
export { ROUTE_HEADER, TRANSPORT_HEADER } from '@wingman/protocol';

/**
 * After the local WebSocket closed and the close went to the viewer, how long
 * the viewer gets to answer with its own close before the stream is reset
 * (same figure as ws's closeTimeout, 30 s, would hold a stream far longer
 * than a browser ever takes; 10 s is ample on any network).
 */
export const VIEWER_WS_CLOSE_REPLY_TIMEOUT_MS = 10_000;
