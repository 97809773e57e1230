/**
 * Names and rules both ends of an HTTP/WebSocket hop must agree on: the
 * transport header, the RFC hop-by-hop fields, which WebSocket close codes
 * may go on the wire and how long a close reason may be, and the headers,
 * path and query parameter the browser's Service Worker and the tunnel server
 * use to bridge cookies, and the paths where the tunnel server serves the
 * browser client's bundles and pages. Isomorphic: no DOM, WebWorker or Node API.
 * docs/browser-client.md describes the Service Worker bridge.
 */

/** Response: which transport served it, `p2p` or `relay` (set by the agent and the tunnel server). Stable: users and tests rely on it. */
export const TRANSPORT_HEADER = 'x-wingman-transport';

/**
 * Response, agent → Service Worker, on HTML: the app's own port. The SW gives
 * it to the shim it injects, which carries a WebSocket or fetch() the page
 * aims at that port (of the session's host or of localhost: a dev server's
 * live reload, `livereload.js?port=1313`) to the session instead
 * (browser-client/src/shim/app-port.ts).
 */
export const APP_PORT_HEADER = 'x-wingman-app-port';
/**
 * Response, agent → Service Worker, beside APP_PORT_HEADER: the tunnel's
 * routes whose app listens on loopback, as `<prefix>=<port>` separated by
 * spaces (`/api=5001 /ws=5002`). The shim carries a request the page aims
 * at such a port, on a path that route serves (a front end calling
 * `http://localhost:5001/api/items`), to the session as well.
 */
export const APP_ROUTES_HEADER = 'x-wingman-app-routes';

/**
 * Connection-scoped fields that are never forwarded (RFC 9110 §7.6.1, RFC 9112
 * §9.6), plus `proxy-connection` (legacy, still sent by some clients). Each
 * hop adds its own extras to these.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/** A WebSocket close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5: control frame payload ≤ 125, minus the 2-byte code). */
export const WS_MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether a close code may be sent on a close frame (RFC 6455 §7.4): 1005
 * and 1006 only describe what was received, 1004 and 1015 are reserved, and
 * outside 1000–1014 only 3000–4999 (registered and private) are allowed.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * Request: set by the Service Worker on every request it relays through the
 * tunnel server. Such a request is never a bootstrap navigation (it gets the
 * app, not the shell) and has its cookies bridged (see the headers below).
 */
export const VIA_HEADER = 'x-wingman-via';
/** VIA_HEADER's value from the Service Worker. */
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
 * Request, tunnel server → agent only: the visitor id of the viewer behind a
 * relayed request on a session with viewer identity (docs/PROTOCOL.md §Viewer
 * identity). The server removes any the viewer sent and sets its own; the
 * agent shows it in the inspector and removes it before the app. Over P2P it
 * is never trusted (the viewer wrote the head).
 */
export const VIEWER_HEADER = 'x-wingman-viewer';
/**
 * Both ways over P2P only. In a request (Service Worker → agent, value `?1`):
 * state your own time. In the response (agent → Service Worker): the agent's
 * own time for the exchange, whole ms from the request's head reaching its
 * forwarder to the response head leaving it (the app's time, mostly). The SW
 * subtracts it from the request's time to the response head, so a path's
 * figure is the path's and not the app's (a slow first transform of a module
 * is no stall), and removes it before anything reads the head; the agent
 * removes the request field before the app.
 */
export const AGENT_TIME_HEADER = 'x-wingman-agent-ms';
/** Largest value AGENT_TIME_HEADER may carry, ms (one exchange's head deadline is far below it). */
export const AGENT_TIME_MAX_MS = 600_000;
/**
 * Request, Service Worker → agent (in the P2P head, or through the tunnel
 * server on a relayed fetch): why the SW sent the request the way it went
 * (browser-client/src/sw/route-decision.ts), one lower-case token. The agent
 * removes it before the app and answers with ROUTE_HEADER on the response:
 * `<transport>; reason=<token>` (`relay; reason=no-service-worker` for a
 * request no Service Worker routed, `p2p; reason=direct-client` for a P2P
 * client without one, such as `wingman fetch`). Stable: users and tests rely on it.
 */
export const ROUTE_HEADER = 'x-wingman-route';
/** A route reason as it may travel in ROUTE_HEADER: a token of lower-case letters and dashes. */
export const ROUTE_REASON_PATTERN = /^[a-z][a-z-]{0,31}$/;
/**
 * Request, Service Worker → agent through the tunnel server: the request
 * fields the browser would have sent but a Service Worker's own fetch cannot
 * carry (forbidden names: `Sec-Fetch-*`, `Sec-CH-UA*`, and `Origin` on the
 * follow-up of a redirect WebKit answers from a SW), as a JSON array of
 * `[name, value]` pairs. The agent replaces the fields of those names with
 * these and removes this one before the app (parseFetchMetadata). Only
 * `sec-*` names and an `origin` that is one serialized http(s) origin pass;
 * anything malformed is ignored whole.
 */
export const FETCH_METADATA_HEADER = 'x-wingman-fetch-meta';
/** At most this many fields in FETCH_METADATA_HEADER (Sec-Fetch-* and the client hints are a handful). */
export const FETCH_METADATA_MAX_FIELDS = 16;
/** At most this many bytes in FETCH_METADATA_HEADER's value. */
export const FETCH_METADATA_MAX_BYTES = 4096;

/** FETCH_METADATA_HEADER's fields, or undefined when the value is not a valid list of `sec-*` fields and `origin`. */
export function parseFetchMetadata(value: string): Array<[string, string]> | undefined {
  if (value.length > FETCH_METADATA_MAX_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length > FETCH_METADATA_MAX_FIELDS) return undefined;
  const out: Array<[string, string]> = [];
  for (const item of parsed) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [name, v] = item as unknown[];
    if (typeof name !== 'string' || typeof v !== 'string') return undefined;
    // A field name token starting with sec-, and a value of visible ASCII and spaces (RFC 9110 §5.5).
    if (name === 'origin') {
      // One serialized origin (scheme, host, port; no path), as a browser writes it.
      if (!/^https?:\/\/[a-z0-9.\-[\]:]{1,255}$/.test(v)) return undefined;
    } else if (!/^sec-[a-z0-9-]{1,40}$/.test(name) || !/^[\x20-\x7e]{0,512}$/.test(v)) return undefined;
    out.push([name, v]);
  }
  return out;
}
/**
 * Request, Service Worker → agent: the identity of one exchange whose body the
 * Service Worker holds (a request other than GET and HEAD). In the P2P head
 * it names the exchange; the agent remembers, for a short while, the ones it
 * began to forward to the app. When the channel fails before the response
 * head, the Service Worker sends the request again over the relay with the
 * same field: the agent forwards it only if the P2P exchange never reached
 * the app, and answers 502 ALREADY_RECEIVED_ERROR otherwise, so the app never
 * gets the request twice. The agent removes it before the app. A value that
 * does not match EXCHANGE_ID_PATTERN is ignored.
 */
export const EXCHANGE_HEADER = 'x-wingman-exchange';
/** An exchange id: 16 random bytes in base64url (22 characters), unguessable, so no one else can name another viewer's exchange. */
export const EXCHANGE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** The ERROR_HEADER code of the agent's answer to a request sent again over the relay whose P2P exchange had reached the app. */
export const ALREADY_RECEIVED_ERROR = 'ERR_ALREADY_RECEIVED';

/** Response: stable error code on an error page the tunnel server, the Service Worker or the shell produced itself. */
export const ERROR_HEADER = 'x-wingman-error';

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

/** The shell page's script (DOM). */
export const CLIENT_PATH = '/__wingman/client.js';
/** The Service Worker script; served with `Service-Worker-Allowed: /` so its scope can be the whole origin. */
export const SW_PATH = '/__wingman/sw.js';
/** The WebSocket shim injected into the app's HTML. */
export const SHIM_PATH = '/__wingman/shim.js';
/** Scope of the Service Worker: the whole session origin. */
export const SW_SCOPE = '/';
/** The viewer diagnostics page (served by the tunnel server) and its script. */
export const DIAGNOSTICS_PATH = '/__wingman/diagnostics';
export const DIAGNOSTICS_SCRIPT_PATH = '/__wingman/diagnostics.js';
/** Query parameter that hides the status badge (`?wingman-badge=0`), read by the shell page the tunnel server renders. */
export const BADGE_QUERY_PARAM = 'wingman-badge';

/**
 * Tunnel-server endpoint the shell POSTs (`application/json`, so a
 * cross-site form cannot) when the app registers a Service Worker of its
 * own: the answer sets OWN_SW_COOKIE, and from then on this browser's
 * top-level navigations get the app itself over the relay instead of the
 * shell, so the app's worker registers and controls its pages as it would
 * without Wingman. docs/browser-client.md §The app's own Service Worker.
 */
export const OWN_SW_PATH = '/__wingman/own-sw';
/** HttpOnly, host-only cookie marking a browser whose app runs its own Service Worker. Removed from every request before the app. */
export const OWN_SW_COOKIE = 'wingman_own_sw';

/**
 * The shell's configuration: the tunnel server writes it into the shell page's
 * <script type="application/json" id="wingman-config"> (tunnel-server
 * browser/shell-html.ts); the page validates it again (browser-client
 * page/config.ts): it must not trust its own markup blindly.
 */
export interface ShellConfig {
  sessionId: string;
  p2p: boolean;
  exclude: string[];
  badge: boolean;
  /** A private session: the app is loaded only once the channel is verified (docs/PROTOCOL.md §Verified channels). */
  private: boolean;
}
