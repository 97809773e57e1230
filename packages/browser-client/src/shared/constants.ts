/** Paths, header names and every timeout of the browser client, unit in the name; free of DOM, WebWorker and Node APIs. docs/browser-client.md. */

/** Set by the shim (non-enumerable) when the app registers its own Service Worker, for a shell whose script ran after that. */
export const OWN_SW_WINDOW_KEY = '__wingmanOwnServiceWorker';

/** Cache Storage names of earlier versions, which the app would see: the worker deletes them when it activates. */
export const WINGMAN_CACHE_PREFIX = 'wingman-http-';

/** The protocol's RESERVED_PREFIX. */
export const WINGMAN_PREFIX = '/__wingman/';

/** Request: the size the shim puts on a bulk upload, as a Service Worker sees no Content-Length. Never leaves the browser. */
export const BODY_BYTES_HEADER = 'x-wingman-body-bytes';

/** Well past the first round trips, so bytes / time measures the path's rate. */
export const BULK_MIN_BYTES = 1024 * 1024;

/** Request: the shim's id on a fetch() with an AbortSignal, as Chromium never aborts FetchEvent.request.signal (w3c/ServiceWorker#1544). */
export const ABORT_ID_HEADER = 'x-wingman-abort-id';

/** For a shell to accept or decline a request before the relay: trips only on a stuck or closing shell. */
export const SHELL_ACCEPT_TIMEOUT_MS = 1_500;

/** The same when the silent shell is the requesting frame's own: their shared main thread is busy, and the relay would not help. */
export const SHELL_BUSY_ACCEPT_TIMEOUT_MS = 15_000;

/** Over P2P, as the relay's (Node's requestTimeout); the agent answers 504 for a hung app. */
export const RESPONSE_HEAD_TIMEOUT_MS = 300_000;

/** A restarted Service Worker's wait for open shells to re-announce themselves: one message hop each. */
export const SW_SYNC_TIMEOUT_MS = 250;

/** While a P2P response body is open, the Service Worker checks this often that the shell carrying it still exists. */
export const SHELL_LIVENESS_INTERVAL_MS = 2_000;

/** A body's credit over a MessagePort: its bandwidth-delay product (30 MB/s × 30 ms), bounded. */
export const PORT_WINDOW_BYTES = 1024 * 1024;

/** Below it (a ~20 ms copy) a Blob costs more than it saves. */
export const BLOB_BODY_MIN_BYTES = 256 * 1024;

/** Bigger reads are split so credit stays fine-grained. */
export const PORT_CHUNK_BYTES = 64 * 1024;

/** Then the shell shows the app anyway (relay only, no SW). */
export const SW_CONTROL_TIMEOUT_MS = 5_000;

/** Then the shim opens a real (relayed) WebSocket. */
export const WS_SHELL_TIMEOUT_MS = 1_000;

/** A coming channel is waited for by a WebSocket of a tab that had P2P (Vite's HMR opens ~0.5 s early) and a private session's requests. */
export const CHANNEL_COMING_WAIT_MS = 2_000;

/** The longest a pending loss probe keeps bursts off the channel: an agent without the probe answers nothing. */
export const LOSS_PROBE_HOLD_MS = 1_000;
/** sessionStorage key: this tab's last loss verdict and its time, `clean 1764000000000` (page/path-state.ts). */
export const LOSS_VERDICT_STORAGE_KEY = 'wingman:loss-verdict';
/** sessionStorage key: this tab had an open channel on this origin (cleared when an attempt fails). */
export const P2P_SEEN_STORAGE_KEY = 'wingman:p2p-seen';

/** Then the socket fails (error + close 1006). */
export const P2P_WS_HANDSHAKE_TIMEOUT_MS = 15_000;

/** After close(), for the peer's close. */
export const P2P_WS_CLOSE_REPLY_TIMEOUT_MS = 5_000;

export const SIGNAL_HELLO_TIMEOUT_MS = 5_000;

/** When the server's hello gives none (timeoutMs 0). */
export const ICE_DEADLINE_FALLBACK_MS = 10_000;

/** The channel's heartbeat (badge RTT and liveness): one PING in flight at a time. */
export const RTT_INTERVAL_MS = 5_000;
export const RTT_PING_TIMEOUT_MS = RTT_INTERVAL_MS;
export const MAX_MISSED_PINGS = 2;

/** P2P retries: doubling from the base to the cap; after the attempts, the relay until reload. */
export const RETRY_BASE_MS = 1_000;
export const RETRY_MAX_MS = 30_000;
export const RETRY_MAX_ATTEMPTS = 8;
/** While the agent is away (restarting): no failure counted; the session's grace period bounds them. */
export const AGENT_AWAY_RETRY_MS = 2_000;

/** Generous: a relayed socket without the session cookie may be refused, worse than a slow connect. */
export const WS_TICKET_QUERY_TIMEOUT_MS = 5_000;
/** One round trip to the tunnel server. */
export const WS_TICKET_FETCH_TIMEOUT_MS = 4_000;

/** Then a P2P WebSocket opens without cookies. */
export const COOKIE_QUERY_TIMEOUT_MS = 500;

/** Read before placing the shim: bounds the buffering for pages without `<head>`. */
export const HTML_SNIFF_BYTES = 64 * 1024;

export const BADGE_HIDDEN_KEY = 'wingman-badge-hidden';

/** A replaced shell↔SW port stays open for messages already posted (one carrying exchanges, until none is left). */
export const PORT_RETIRE_MS = 10_000;

/** The diagnostics page asks, every open shell answers with a snapshot. */
export const DIAGNOSTICS_CHANNEL = 'wingman-diagnostics';
export const DIAGNOSTICS_REPLY_TIMEOUT_MS = 1_000;
/** Enough for a retry cycle, small enough to read. */
export const DIAGNOSTICS_MAX_ERRORS = 20;
