/** Timeouts and limits of the agent's connection to the tunnel server, with their unit in the name. */

/** Whole connection attempt (TCP + TLS + upgrade + register/registered) before it counts as failed, ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** First reconnect delay, ms; doubles per failed attempt. */
export const BACKOFF_INITIAL_MS = 500;

/** Reconnect delay cap, ms: a server that comes back is found within 30 s, and a dead one costs one attempt per 30 s. */
export const BACKOFF_MAX_MS = 30_000;

/**
 * Interval of protocol PINGs on a live connection, ms. Detects a dead path
 * that TCP has not noticed (sleep, NAT binding dropped) well within the
 * server's grace period, so the agent resumes the same URL.
 */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** Wait for each PONG, ms. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * Timed-out PINGs in a row (each with nothing moving on the connection) after
 * which it is declared dead and dropped. One: the timeout already allows for a
 * slow path, a busy one shows as bytes moving, and the sooner a dead path is
 * dropped, the likelier the reconnect resumes within the server's grace period.
 */
export const HEARTBEAT_MAX_MISSED = 1;

/**
 * Largest WebSocket message accepted from the server: frames are packed in
 * messages of at most WEBSOCKET_ACCEPT_MESSAGE_BYTES (256 KiB) and control JSON is
 * at most MAX_CONTROL_MESSAGE_BYTES (64 KiB); 1 MiB leaves headroom and bounds memory.
 */
export const SERVER_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Graceful close: wait this long for the server's close frame before dropping the socket, ms. */
export const CLOSE_TIMEOUT_MS = 2_000;

/** Resume attempts refused as "busy" (the previous agent's socket not yet seen closed) before registering afresh. */
export const MAX_BUSY_RESUME_ATTEMPTS = 5;

/** A connection that stayed registered this long resets the backoff, ms; shorter ones keep backing off (no hot reconnect loop). */
export const STABLE_CONNECTION_MS = 10_000;
