/**
 * Every stable code Wingman sends, prints or answers with, one registry per layer (a code may be in
 * several); a sender takes its layer's type, so the compiler refuses another layer's code. Meanings:
 * docs/PROTOCOL.md §Error code registries.
 */
import { ERROR_CODES, type ErrorCode } from './errors';

/** Protocol errors (RESET, GOAWAY, local failures): the wire numbers of errors.ts. */
export const PROTOCOL_ERROR_CODES = Object.keys(ERROR_CODES) as readonly ErrorCode[];

/** The agent's control channel: why the tunnel server refuses or ends an agent's session. */
export const CONTROL_ERROR_CODES = [
  'ERR_PROTOCOL',
  'ERR_INVALID_PAYLOAD',
  'ERR_UNSUPPORTED_VERSION',
  'ERR_SESSION_IN_USE',
  'ERR_SESSION_EXPIRED',
  'ERR_TOO_MANY_SESSIONS',
  // Stable names (`wingman http --name`, session-name.ts).
  'ERR_NAME_INVALID',
  'ERR_NAME_TAKEN',
  'ERR_NAME_LIMIT',
  'ERR_AUTH_THROTTLED',
  // `--allow-email` on a server without an OpenID Connect issuer.
  'ERR_SIGN_IN_UNAVAILABLE',
  'ERR_GOING_AWAY',
  'ERR_TIMEOUT',
  'ERR_INTERNAL',
] as const;
export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[number];

/** Signaling (`/__wingman/signal`, and the agent's answers to offers). */
export const SIGNALING_ERROR_CODES = [
  'ERR_INVALID_PAYLOAD',
  'ERR_INVALID_SIGNAL',
  'ERR_MESSAGE_TOO_LARGE',
  'ERR_UNKNOWN_SESSION',
  'ERR_AGENT_OFFLINE',
  'ERR_P2P_DISABLED',
  'ERR_P2P_UNAVAILABLE',
  'ERR_RATE_LIMITED',
  'ERR_SIGNALING_QUOTA',
  'ERR_TOO_MANY_VIEWERS',
  'ERR_TOO_MANY_PEERS',
  'ERR_TOO_MANY_CANDIDATES',
  'ERR_BAD_OFFER',
  'ERR_VIEWER_REFUSED',
  'ERR_LINK_KEY_REQUIRED',
] as const;
export type SignalingErrorCode = (typeof SIGNALING_ERROR_CODES)[number];

/** What the tunnel server answers a viewer or an operator over HTTP (pages, JSON, close reasons). */
export const HTTP_ERROR_CODES = [
  'ERR_UNKNOWN_SESSION',
  'ERR_AGENT_DISCONNECTED',
  'ERR_SESSION_EXPIRED',
  'ERR_SESSION_STOPPED',
  'ERR_SESSION_MOVING',
  'ERR_NODE_UNREACHABLE',
  'ERR_DIRECTORY_UNAVAILABLE',
  'ERR_ACCESS_REQUIRED',
  'ERR_ACCESS_DENIED',
  'ERR_ACCESS_THROTTLED',
  'ERR_VIEWER_STREAMS',
  // The agent: a request sent again over the relay after its channel failed had reached the app already.
  'ERR_ALREADY_RECEIVED',
  'ERR_PRIVATE_SESSION',
  'ERR_LINK_INCOMPLETE',
  'ERR_ADDRESS_REFUSED',
  // The sign-in gate (tunnel-server access/sign-in-*.ts).
  'ERR_SIGN_IN_REQUIRED',
  'ERR_SIGN_IN_FAILED',
  'ERR_EMAIL_NOT_ALLOWED',
  'ERR_VIEWER_WAITING',
  'ERR_VIEWER_REFUSED',
  'ERR_OVERLOADED',
  'ERR_METRICS_TOKEN',
  // The on-demand TLS permission check (/__wingman/tls-ask).
  'ERR_NO_SUCH_SESSION',
  'ERR_NOT_OUR_DOMAIN',
  'ERR_BAD_REQUEST',
  'ERR_UNAVAILABLE',
  'ERR_WS_TICKET',
  'ERR_METHOD',
  'ERR_CONTENT_TYPE',
  'ERR_TOO_LARGE',
  'ERR_TOO_MANY',
  'ERR_NOT_FOUND',
  'ERR_TIMEOUT',
  'ERR_INTERNAL',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The `wingman` CLI's `fatal` events (each with an exit code, docs/cli.md "Exit codes"). */
export const CLI_FATAL_CODES = [
  'ERR_TOKEN_REFUSED',
  'ERR_SERVER_UNREACHABLE',
  'ERR_SERVER_NOT_FOUND',
  'ERR_SERVER_REFUSED',
  'ERR_SERVER_ERROR',
  'ERR_NOT_A_TUNNEL_SERVER',
  'ERR_WRONG_SCHEME',
  'ERR_TLS_CERTIFICATE',
  'ERR_PROXY_UNREACHABLE',
  'ERR_PROXY_REFUSED',
  'ERR_SESSION_EXPIRED',
  'ERR_SESSION_IN_USE',
  'ERR_TOO_MANY_SESSIONS',
  'ERR_NAME_INVALID',
  'ERR_NAME_TAKEN',
  'ERR_NAME_LIMIT',
  'ERR_NAME_UNSUPPORTED',
  'ERR_ACCESS_UNSUPPORTED',
  'ERR_EXPIRY_UNSUPPORTED',
  'ERR_APPROVAL_UNSUPPORTED',
  'ERR_SIGN_IN_UNAVAILABLE',
  'ERR_PROTOCOL',
  'ERR_TIMEOUT',
] as const;

/** The agent's inspector API (`{"error":{"code","message"}}`). */
export const INSPECTOR_ERROR_CODES = [
  'ERR_INSPECTOR_NOT_LOOPBACK',
  'ERR_INSPECTOR_HOST',
  'ERR_INSPECTOR_ORIGIN',
  'ERR_NOT_FOUND',
  'ERR_INVALID_QUERY',
  'ERR_INVALID_BODY',
  'ERR_BODY_TRUNCATED',
  'ERR_REPLAY_UNSUPPORTED',
  'ERR_AMBIGUOUS_VIEWER',
  'ERR_AGENT_OFFLINE',
  'ERR_INTERNAL',
] as const;
export type InspectorErrorCode = (typeof INSPECTOR_ERROR_CODES)[number];

/** Warnings the server and the agent print (stderr, or `warning` events with `--json`). */
export const WARNING_CODES = [
  'WARN_DOMAIN_IS_IP',
  'WARN_INSECURE_PUBLIC_URL',
  'WARN_LOCALHOST_LINKS',
  'WARN_P2P_HOST_CRASHED',
  'WARN_UNTRUSTED_SIGNAL',
  'WARN_TARGET_DOWN',
  'WARN_STATE_FILE',
  'WARN_INSPECTOR_UNAVAILABLE',
  'WARN_APPROVE_UNREACHABLE',
  'WARN_SW_COOKIE_LOST',
  'WARN_VIEWER_OWN_SW',
  'WARN_PUBLIC_SESSION',
  'WARN_TARGET_TLS_UNVERIFIED',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** Whether `code` is one of `registry`'s codes: narrows a code read from elsewhere to that layer's type. */
export function isCodeOf<const Codes extends readonly string[]>(registry: Codes, code: string): code is Codes[number] {
  return registry.includes(code);
}
