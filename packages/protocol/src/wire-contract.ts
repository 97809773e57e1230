/**
 * Names and rules both ends of an HTTP/WebSocket hop must agree on: Wingman's own header fields (their
 * meaning: docs/PROTOCOL.md §Route and fetch metadata headers, docs/browser-client.md §Cookies), the
 * hop-by-hop fields, WebSocket close rules, and the paths of the browser client's bundles and pages.
 */
import type { HeaderList } from './payload';

/** Response: `p2p` or `relay`. Stable: users and tests rely on it. */
export const TRANSPORT_HEADER = 'x-wingman-transport';

/** Response on HTML, agent → Service Worker: the app's own port, for the shim (docs/browser-client.md §Ports in the page). */
export const APP_PORT_HEADER = 'x-wingman-app-port';
/** Beside it: the routes whose app listens on loopback, `<prefix>=<port>` separated by spaces (`/api=5001 /ws=5002`). */
export const APP_ROUTES_HEADER = 'x-wingman-app-routes';

/** Never forwarded (RFC 9110 §7.6.1, RFC 9112 §9.6), plus the legacy `proxy-connection`; each hop adds its own. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/** Field names a Connection field lists: hop-by-hop too (RFC 9110 §7.6.1). Never Host. */
export function connectionListed(headers: HeaderList): Set<string> {
  const listed = new Set<string>();
  for (const [name, value] of headers) {
    if (name !== 'connection') continue;
    for (const raw of value.split(',')) {
      const token = raw.trim().toLowerCase();
      if (token && token !== 'host') listed.add(token);
    }
  }
  return listed;
}

/** Node's rawHeaders ([name, value, name, value, ...]) as a header list, names lower-cased. */
export function headerListFromRaw(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/** RFC 6455 §5.5: a control frame's payload ≤ 125, minus the 2-byte code. */
export const WS_MAX_CLOSE_REASON_BYTES = 123;

/** RFC 6455 §7.4: 1005 and 1006 only describe what was received, 1004 and 1015 are reserved; else 3000–4999. */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** Request: set by the Service Worker on what it relays, which is never a bootstrap navigation and has its cookies bridged. */
export const VIA_HEADER = 'x-wingman-via';
export const VIA_SW = 'sw';
/** Request: the Service Worker's cookie jar for this URL; the tunnel server turns it into `Cookie`. */
export const SW_COOKIE_HEADER = 'x-wingman-cookie';
/** Request, '1': SW_COOKIE_HEADER carries only what the browser's jar lacks (HttpOnly), to merge with `Cookie`, not replace it. */
export const SW_COOKIE_MERGE_HEADER = 'x-wingman-cookie-merge';
/** Response: the app's `Set-Cookie` fields as a JSON array (a SW cannot read `Set-Cookie`). */
export const SW_SET_COOKIE_HEADER = 'x-wingman-set-cookie';
/** Response: the app's 3xx status, turned into a 200 for the SW (a redirect it fetches is opaque or followed, its cookies lost). */
export const SW_STATUS_HEADER = 'x-wingman-status';
/** Request, tunnel server → agent only: the viewer's visitor id (docs/PROTOCOL.md §Viewer identity); never trusted over P2P. */
export const VIEWER_HEADER = 'x-wingman-viewer';
/** P2P only: asked by the Service Worker (`?1`), answered with the agent's own ms, which the SW leaves out of the path's time. */
export const AGENT_TIME_HEADER = 'x-wingman-agent-ms';
export const AGENT_TIME_MAX_MS = 600_000;
/** Request: why the SW sent it the way it went; the response's says `<transport>; reason=<token>`. Stable: users and tests rely on it. */
export const ROUTE_HEADER = 'x-wingman-route';
/** A reason the agent echoes (any other it reports as the SW giving none): lower-case letters, digits (`p2p-stalls`) and hyphens. */
export const ROUTE_REASON_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** Request through the tunnel server: the fields a SW's own fetch cannot carry (`Sec-Fetch-*`, `Sec-CH-UA*`, a redirect's `Origin`). */
export const FETCH_METADATA_HEADER = 'x-wingman-fetch-meta';
export const FETCH_METADATA_MAX_FIELDS = 16;
export const FETCH_METADATA_MAX_BYTES = 4096;

/** FETCH_METADATA_HEADER's fields, or undefined when the value is not a valid list of `sec-*` fields and `origin`: ignored whole. */
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
    if (name === 'origin') {
      // One serialized origin (scheme, host, port; no path), as a browser writes it.
      if (!/^https?:\/\/[a-z0-9.\-[\]:]{1,255}$/.test(v)) return undefined;
    } else if (!/^sec-[a-z0-9-]{1,40}$/.test(name) || !/^[\x20-\x7e]{0,512}$/.test(v)) return undefined;
    out.push([name, v]);
  }
  return out;
}
/** Request: one exchange whose body the SW holds, sent again over the relay if the channel fails; the app gets it once. */
export const EXCHANGE_HEADER = 'x-wingman-exchange';
/** 16 random bytes in base64url: unguessable, so no one names another viewer's exchange. */
export const EXCHANGE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** The agent's answer to a request sent again over the relay whose P2P exchange had reached the app. */
export const ALREADY_RECEIVED_ERROR = 'ERR_ALREADY_RECEIVED';

/** Response: stable error code on an error page the tunnel server, the Service Worker or the shell produced itself. */
export const ERROR_HEADER = 'x-wingman-error';

/** Where the SW trades the cookies the browser's jar lacks for a relayed WebSocket's one-time ticket (POST `{cookie}`). */
export const WS_TICKET_PATH = '/__wingman/ws-ticket';
/** The ticket on the shim's relayed WebSocket; the tunnel server removes it before the app and refuses an invalid one. */
export const WS_TICKET_PARAM = 'wingman-ws-ticket';

export const CLIENT_PATH = '/__wingman/client.js';
/** Served with `Service-Worker-Allowed: /` so its scope can be the whole origin. */
export const SW_PATH = '/__wingman/sw.js';
export const SHIM_PATH = '/__wingman/shim.js';
export const SW_SCOPE = '/';
export const DIAGNOSTICS_PATH = '/__wingman/diagnostics';
export const DIAGNOSTICS_SCRIPT_PATH = '/__wingman/diagnostics.js';
/** `?wingman-badge=0` hides the status badge. */
export const BADGE_QUERY_PARAM = 'wingman-badge';

/**
 * The shell POSTs here (`application/json`, so no cross-site form can) when the app registers a Service
 * Worker of its own; the answer's cookie makes this browser's navigations get the app over the relay.
 * docs/browser-client.md §The app's own Service Worker.
 */
export const OWN_SW_PATH = '/__wingman/own-sw';
/** HttpOnly, host-only; removed from every request before the app. */
export const OWN_SW_COOKIE = 'wingman_own_sw';

/** The shell's configuration, written into its page by the tunnel server and validated again by the page (page/config.ts). */
export interface ShellConfig {
  sessionId: string;
  p2p: boolean;
  exclude: string[];
  badge: boolean;
  /** A private session: the app is loaded only once the channel is verified (docs/PROTOCOL.md §Verified channels). */
  private: boolean;
}
