/**
 * Paths, header names and every timeout of the browser client, with the unit
 * in the name. Shared by the shell page, the Service Worker and the shim,
 * so it must stay free of DOM, WebWorker and Node APIs.
 * The design behind them: docs/browser-client.md.
 */

/**
 * Property the shim sets on the app document's window (non-enumerable) when
 * the app registers a Service Worker of its own, for a shell whose script ran
 * after that (page/own-service-worker.ts).
 */
export const OWN_SW_WINDOW_KEY = '__wingmanOwnServiceWorker';

/**
 * Prefix of the Cache Storage names Wingman's Service Worker used in earlier
 * versions. Cache Storage is the origin's, so the app sees them: the worker
 * deletes them when it activates.
 */
export const WINGMAN_CACHE_PREFIX = 'wingman-http-';

/** Prefix of Wingman's own endpoints on a session origin (same value as the protocol's RESERVED_PREFIX). */
export const WINGMAN_PREFIX = '/__wingman/';

/**
 * The wire contract with the tunnel server (the paths it serves the bundles
 * and pages at, the Service Worker bridge's headers, the transport and error
 * headers): defined in the protocol, re-exported here for the browser code.
 */
export {
  BADGE_QUERY_PARAM,
  CLIENT_PATH,
  DIAGNOSTICS_PATH,
  OWN_SW_PATH,
  SHIM_PATH,
  SW_PATH,
  SW_SCOPE,
  AGENT_TIME_HEADER,
  APP_PORT_HEADER,
  APP_ROUTES_HEADER,
  AGENT_TIME_MAX_MS,
  ERROR_HEADER,
  EXCHANGE_HEADER,
  FETCH_METADATA_HEADER,
  SW_COOKIE_HEADER,
  SW_COOKIE_MERGE_HEADER,
  SW_SET_COOKIE_HEADER,
  SW_STATUS_HEADER,
  ROUTE_HEADER,
  VIA_HEADER,
  VIA_SW,
  WS_TICKET_PARAM,
  WS_TICKET_PATH,
} from '@wingman/protocol';

/**
 * Request: the body's size, which the shim puts on the app's same-origin
 * uploads of BULK_MIN_BYTES or more it can size: a Service Worker sees no
 * Content-Length, and with this it knows an upload is bulk. Never leaves the browser.
 */
export const BODY_BYTES_HEADER = 'x-wingman-body-bytes';

/** A body at least this large is bulk (sw/path-choice.ts): well past the first round trips, so bytes / time measures the path's rate. */
export const BULK_MIN_BYTES = 1024 * 1024;

/**
 * Request: an id the shim puts on the app's same-origin fetch() calls that
 * carry an AbortSignal, so an abort before the response head reaches the SW
 * (`wingman:abort`): Chromium never aborts FetchEvent.request.signal
 * (w3c/ServiceWorker#1544). Never leaves the browser.
 */
export const ABORT_ID_HEADER = 'x-wingman-abort-id';

/** How long the Service Worker waits for a shell to accept or decline a request before using the relay: trips only on a stuck or closing shell. */
export const SHELL_ACCEPT_TIMEOUT_MS = 1_500;

/**
 * How long the Service Worker keeps waiting past SHELL_ACCEPT_TIMEOUT_MS when
 * the silent shell is the requesting frame's own and its window exists: their
 * shared main thread is busy, and the relay would only move the bytes onto
 * the tunnel server. Busy longer, it is hung (Chromium offers to kill it).
 */
export const SHELL_BUSY_ACCEPT_TIMEOUT_MS = 15_000;

/** Longest wait for a response head over P2P (the agent answers 504 for a hung app), as the relay's (Node's requestTimeout). */
export const RESPONSE_HEAD_TIMEOUT_MS = 300_000;

/** How long a restarted Service Worker waits for open shells to re-announce themselves. One message hop each; 250 ms is generous. */
export const SW_SYNC_TIMEOUT_MS = 250;

/** While a P2P response body is open, the Service Worker checks this often that the shell carrying it still exists. */
export const SHELL_LIVENESS_INTERVAL_MS = 2_000;

/** Credit window of a body over a MessagePort (SW ⇄ shell), bytes: the channel's bandwidth-delay product (30 MB/s × 30 ms), bounded. */
export const PORT_WINDOW_BYTES = 1024 * 1024;

/** Smallest BufferSource request body the shim hands over as a Blob (shim/binary-body.ts): below it (a ~20 ms copy) the Blob costs more. */
export const BLOB_BODY_MIN_BYTES = 256 * 1024;

/** Largest chunk posted over a MessagePort, bytes (bigger reads are split so credit stays fine-grained). */
export const PORT_CHUNK_BYTES = 64 * 1024;

/** How long the shell waits for the Service Worker to control it before showing the app anyway (relay only, no SW). */
export const SW_CONTROL_TIMEOUT_MS = 5_000;

/** How long the shim waits for the shell to take a WebSocket before opening a real one (relay). */
export const WS_SHELL_TIMEOUT_MS = 1_000;

/**
 * How long a channel that is coming up is waited for: by an app WebSocket in
 * a tab that had P2P on this origin before (it stays on the path it opened
 * on for its life; Vite's HMR socket opens ~0.5 s before the channel), and
 * by a private session's requests (its relay refuses them).
 */
export const CHANNEL_COMING_WAIT_MS = 2_000;

/**
 * The longest a channel's pending loss probe keeps a page's bursts around the
 * channel (the shell's `probing`, docs/PROTOCOL.md §Loss probe): its verdict
 * takes a few round trips, and an agent without the probe answers nothing.
 */
export const LOSS_PROBE_HOLD_MS = 1_000;
/** sessionStorage key: this tab had an open channel on this origin (cleared when an attempt fails). */
export const P2P_SEEN_STORAGE_KEY = 'wingman:p2p-seen';

/** Longest wait for the app's WebSocket handshake over P2P before the socket fails (error + close 1006). */
export const P2P_WS_HANDSHAKE_TIMEOUT_MS = 15_000;

/** After close(), how long to wait for the peer's close before reporting the socket closed anyway. */
export const P2P_WS_CLOSE_REPLY_TIMEOUT_MS = 5_000;

/** Deadline for the signaling server's hello, ms. */
export const SIGNAL_HELLO_TIMEOUT_MS = 5_000;

/** Used as the ICE deadline when the server's hello gives none (timeoutMs 0), ms. */
export const ICE_DEADLINE_FALLBACK_MS = 10_000;

/** Interval of protocol PINGs over an open channel (badge RTT and liveness), ms. */
export const RTT_INTERVAL_MS = 5_000;

/** Wait for each PONG, ms: one interval, so one PING is in flight at a time. */
export const RTT_PING_TIMEOUT_MS = RTT_INTERVAL_MS;

/** Missed PONGs (each waited RTT_PING_TIMEOUT_MS, with no byte moving on the channel meanwhile: see ChannelLiveness) after which the channel is declared dead. */
export const MAX_MISSED_PINGS = 2;

/** First P2P retry delay after a failure, ms; doubles per attempt. */
export const RETRY_BASE_MS = 1_000;
/** Cap of the P2P retry delay, ms. */
export const RETRY_MAX_MS = 30_000;
/** Attempts in a row without success after which the shell stops retrying (stays on the relay until reload). */
export const RETRY_MAX_ATTEMPTS = 8;
/** P2P retry delay while the server says the agent is away (restarting: it gets its URL back), ms; such tries count no failure, the session's grace period bounds them. */
export const AGENT_AWAY_RETRY_MS = 2_000;

/**
 * How long the shim waits for the SW's ticket before opening its relayed
 * WebSocket without one; above WS_TICKET_FETCH_TIMEOUT_MS, and generous: a
 * socket without the session cookie may be refused, worse than a slow connect.
 */
export const WS_TICKET_QUERY_TIMEOUT_MS = 5_000;
/** Bound on the SW's POST to WS_TICKET_PATH (one round trip to the tunnel server; well under 100 ms normally). */
export const WS_TICKET_FETCH_TIMEOUT_MS = 4_000;

/** How long the shell waits for the SW's cookie header before opening a P2P WebSocket without cookies. */
export const COOKIE_QUERY_TIMEOUT_MS = 500;

/** Bytes of an HTML response read before deciding where the shim goes: bounds the buffering for pages without `<head>`. */
export const HTML_SNIFF_BYTES = 64 * 1024;

/** localStorage key remembering that the reviewer closed the status badge. */
export const BADGE_HIDDEN_KEY = 'wingman-badge-hidden';

/**
 * How long a replaced shell↔SW MessagePort stays open, ms, so messages
 * already posted on it still arrive; one carrying exchanges stays open until
 * none is left (exchange-mux.ts retirePort).
 */
export const PORT_RETIRE_MS = 10_000;

/** BroadcastChannel name on the session origin: the diagnostics page asks, every open shell answers with a snapshot. */
export const DIAGNOSTICS_CHANNEL = 'wingman-diagnostics';
/** How long the diagnostics page waits for shells to answer (one getStats() call; 1 s covers a busy main thread). */
export const DIAGNOSTICS_REPLY_TIMEOUT_MS = 1_000;
/** Recent errors a shell keeps for the diagnostics page (oldest dropped first): enough for a retry cycle, small enough to read. */
export const DIAGNOSTICS_MAX_ERRORS = 20;
