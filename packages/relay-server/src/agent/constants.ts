/** Timeouts and limits of the agent's connection to the tunnel server, with their unit in the name. */

/** TCP + TLS + upgrade + register/registered, ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** First reconnect delay, ms; doubles per failed attempt. */
export const BACKOFF_INITIAL_MS = 500;

/** A server that comes back is found within 30 s; a dead one costs one attempt per 30 s. */
export const BACKOFF_MAX_MS = 30_000;

/** Protocol PINGs: detects a dead path TCP has not noticed (sleep, NAT) within the server's grace period, ms. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

export const HEARTBEAT_TIMEOUT_MS = 10_000;

/** One timed-out PING (with nothing moving) drops the connection: the sooner, the likelier the resume. */
export const HEARTBEAT_MAX_MISSED = 1;

/** Frames come in messages of at most 256 KiB, control JSON 64 KiB: 1 MiB leaves headroom and bounds memory. */
export const SERVER_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Wait for the server's close frame before dropping the socket, ms. */
export const CLOSE_TIMEOUT_MS = 2_000;

/** Resumes refused as "busy" (the previous agent's socket not yet seen closed) before registering afresh. */
export const MAX_BUSY_RESUME_ATTEMPTS = 5;

/** A connection registered this long resets the backoff, ms (no hot reconnect loop). */
export const STABLE_CONNECTION_MS = 10_000;
