/**
 * Paths, header names and every timeout of the browser client, with the unit
 * in the name. Shared by the shell page, the Service Worker, the shim and
 * the Node helpers, so it must stay free of DOM, WebWorker and Node APIs.
 * The design behind them: docs/browser-client.md.
 */

/** Prefix of Wingman's own endpoints on a session origin (same value as the protocol's RESERVED_PREFIX). */
export const WINGMAN_PREFIX = '/__wingman/';

/** The shell page's script (DOM). */
export const CLIENT_PATH = '/__wingman/client.js';
/** The Service Worker script; served with `Service-Worker-Allowed: /` so its scope can be the whole origin. */
export const SW_PATH = '/__wingman/sw.js';
/** The WebSocket shim injected into the app's HTML. */
export const SHIM_PATH = '/__wingman/shim.js';
/** Scope of the Service Worker: the whole session origin. */
export const SW_SCOPE = '/';

/**
 * Set by the Service Worker on every request it relays through the tunnel
 * server. Such a request is never a bootstrap navigation (it gets the app,
 * not the shell) and has its cookies bridged (see the two headers below).
 */
export const VIA_HEADER = 'x-wingman-via';
export const VIA_SW = 'sw';
/** Request: the Service Worker's cookie jar for this URL; the tunnel server turns it into `Cookie`. */
export const SW_COOKIE_HEADER = 'x-wingman-cookie';
/**
 * Request: present ('1') when SW_COOKIE_HEADER carries only what the
 * browser's own jar lacks (HttpOnly cookies, and any the Cookie Store API
 * refused to mirror): the tunnel server then merges it with the request's
 * own `Cookie`, which the browser fills with every script-visible cookie as
 * of this request. Without it SW_COOKIE_HEADER replaces `Cookie` (a whole
 * jar, as older Service Workers send).
 */
export const SW_COOKIE_MERGE_HEADER = 'x-wingman-cookie-merge';
/** Response: the app's `Set-Cookie` fields as a JSON array of strings (the SW cannot read `Set-Cookie`). */
export const SW_SET_COOKIE_HEADER = 'x-wingman-set-cookie';
/**
 * Response: the app's 3xx status, when the tunnel server turned a redirect
 * into a 200 for the Service Worker (a redirect fetched by a SW is opaque or
 * followed, and its Set-Cookie would be lost either way).
 */
export const SW_STATUS_HEADER = 'x-wingman-status';
/**
 * Request: an id the shim puts on the app's same-origin fetch() calls that
 * carry an AbortSignal, so an abort before the response head reaches the SW
 * (`wingman:abort`): Chromium never aborts FetchEvent.request.signal
 * (w3c/ServiceWorker#1544). Never leaves the browser.
 */
export const ABORT_ID_HEADER = 'x-wingman-abort-id';
/** Response: which transport served it, `p2p` or `relay` (set by the agent and the tunnel server). */
export const TRANSPORT_HEADER = 'x-wingman-transport';
/** Response: stable error code on an error page the Service Worker or shell produced itself. */
export const ERROR_HEADER = 'x-wingman-error';

/**
 * How long the Service Worker waits for a shell to accept or decline a
 * request before using the relay. A shell answers from its message handler
 * (well under 10 ms); 1.5 s only trips when its main thread is stuck (the
 * app frame shares that thread) or it is being torn down.
 */
export const SHELL_ACCEPT_TIMEOUT_MS = 1_500;

/**
 * Longest wait for a response head over P2P. The agent answers 504 itself
 * when the local app hangs; this only covers an agent or shell that never
 * answers. Same bound as the tunnel server's relay (Node's requestTimeout).
 */
export const RESPONSE_HEAD_TIMEOUT_MS = 300_000;

/** How long a restarted Service Worker waits for open shells to re-announce themselves. One message hop each; 250 ms is generous. */
export const SW_SYNC_TIMEOUT_MS = 250;

/** While a P2P response body is open, the Service Worker checks this often that the shell carrying it still exists. */
export const SHELL_LIVENESS_INTERVAL_MS = 2_000;

/**
 * Credit window of a body travelling over a MessagePort (SW ⇄ shell), bytes.
 * 1 MiB covers the data channel's bandwidth-delay product on any link we
 * expect (30 MB/s × 30 ms) while bounding what a stalled consumer buffers.
 */
export const PORT_WINDOW_BYTES = 1024 * 1024;

/** Largest chunk posted over a MessagePort, bytes (bigger reads are split so credit stays fine-grained). */
export const PORT_CHUNK_BYTES = 64 * 1024;

/** How long the shell waits for the Service Worker to control it before showing the app anyway (relay only, no SW). */
export const SW_CONTROL_TIMEOUT_MS = 5_000;

/** How long the shim waits for the shell to take a WebSocket before opening a real one (relay). */
export const WS_SHELL_TIMEOUT_MS = 1_000;

/** Longest wait for the app's WebSocket handshake over P2P before the socket fails (error + close 1006). */
export const WS_OPEN_TIMEOUT_MS = 15_000;

/** After close(), how long to wait for the peer's close before reporting the socket closed anyway. */
export const WS_CLOSE_TIMEOUT_MS = 5_000;

/** Deadline for the signaling server's hello, ms. */
export const SIGNAL_HELLO_TIMEOUT_MS = 5_000;

/** Used as the ICE deadline when the server's hello gives none (timeoutMs 0), ms. */
export const DEFAULT_P2P_TIMEOUT_MS = 10_000;

/** Interval of protocol PINGs over an open channel (badge RTT and liveness), ms. */
export const RTT_INTERVAL_MS = 5_000;

/** Missed PONGs (each waited RTT_INTERVAL_MS, with no byte moving on the channel meanwhile: see ChannelLiveness) after which the channel is declared dead. */
export const MAX_MISSED_PINGS = 2;

/** First P2P retry delay after a failure, ms; doubles per attempt. */
export const RETRY_BASE_MS = 1_000;
/** Cap of the P2P retry delay, ms. */
export const RETRY_MAX_MS = 30_000;
/** Attempts in a row without success after which the shell stops retrying (stays on the relay until reload). */
export const RETRY_MAX_ATTEMPTS = 8;

/**
 * Tunnel-server endpoint where the Service Worker deposits the cookies its
 * jar holds and the browser's lacks (HttpOnly ones) for a relayed
 * WebSocket, and gets a one-time ticket (POST, JSON `{cookie}` →
 * `{ticket, expiresInMs}`). docs/browser-client.md §Cookies.
 */
export const WS_TICKET_PATH = '/__wingman/ws-ticket';
/**
 * Query parameter carrying that ticket on the shim's native (relayed)
 * WebSocket. Reserved: the tunnel server removes it before the app sees the
 * upgrade, and refuses the upgrade when the ticket is not valid.
 */
export const WS_TICKET_PARAM = 'wingman-ws-ticket';
/**
 * How long the shim waits for the SW's ticket before opening its relayed
 * WebSocket without one (the browser's cookies only, as before tickets).
 * Above WS_TICKET_FETCH_TIMEOUT_MS so the SW's own answer normally lands.
 * Generous on purpose: giving up means a socket the app may refuse (no
 * session cookie), a worse outcome than a slow connect on a loaded machine
 * (a stopped SW must start, then POST).
 */
export const WS_TICKET_QUERY_TIMEOUT_MS = 5_000;
/** Bound on the SW's POST to WS_TICKET_PATH (one round trip to the tunnel server; well under 100 ms normally). */
export const WS_TICKET_FETCH_TIMEOUT_MS = 4_000;

/** How long the shell waits for the SW's cookie header before opening a P2P WebSocket without cookies. */
export const COOKIE_QUERY_TIMEOUT_MS = 500;

/**
 * Bytes of an HTML response read before deciding where the shim goes. The
 * `<head>` tag sits in the first few hundred bytes of real pages; 64 KiB
 * bounds the buffering for pages that have none.
 */
export const HTML_SNIFF_BYTES = 64 * 1024;

/** localStorage key remembering that the reviewer closed the status badge. */
export const BADGE_HIDDEN_KEY = 'wingman-badge-hidden';
/** Query parameter that hides the badge (`?wingman-badge=0`). */
export const BADGE_QUERY_PARAM = 'wingman-badge';

/**
 * How long a replaced shell↔SW MessagePort stays open, ms: messages already
 * posted on it (a request, a reply) still arrive. Replacements are rare (SW
 * restart, new controller), so the extra open port costs nothing.
 */
export const PORT_RETIRE_MS = 10_000;

/** The viewer diagnostics page (served by the tunnel server) and its script. */
export const DIAGNOSTICS_PATH = '/__wingman/diagnostics';
export const DIAGNOSTICS_SCRIPT_PATH = '/__wingman/diagnostics.js';
/** BroadcastChannel name on the session origin: the diagnostics page asks, every open shell answers with a snapshot. */
export const DIAGNOSTICS_CHANNEL = 'wingman-diagnostics';
/**
 * How long the diagnostics page waits for shells to answer. A shell answers
 * after one getStats() call (a few ms); 1 s also covers a shell whose main
 * thread is busy with the app for a moment.
 */
export const DIAGNOSTICS_REPLY_TIMEOUT_MS = 1_000;
/** Recent errors a shell keeps for the diagnostics page (oldest dropped first): enough for a retry cycle, small enough to read. */
export const DIAGNOSTICS_MAX_ERRORS = 20;
