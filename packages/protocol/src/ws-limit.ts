/**
 * The cap on one relayed WebSocket message, shared by the tunnel server and
 * the agent. `ws` (and the protocol's reassembly) hold a whole message in
 * memory before passing it on, so the cap is what bounds a WebSocket's
 * memory on both; a message over it closes that WebSocket with 1009 on both
 * legs (docs/PROTOCOL.md §WebSocket streams).
 */

/**
 * Default cap, bytes: dev servers' hot-reload and app messages are ≪ 1 MiB,
 * and 1 MiB per message keeps a busy WebSocket within a few MiB of buffers on
 * the server and the agent. Configurable (WS_MAX_MESSAGE_BYTES on the server,
 * --ws-max-message-bytes on the agent) up to MAX_WS_MESSAGE_BYTES.
 */
export const DEFAULT_WS_MESSAGE_LIMIT_BYTES = 1024 * 1024;

/** WebSocket close code "Message Too Big" (RFC 6455 §7.4.1). */
export const WS_CLOSE_MESSAGE_TOO_BIG = 1009;

/** The close reason sent with 1009 (well within a close frame's 123 bytes). */
export function messageTooBigReason(limitBytes: number): string {
  return `message over the ${limitBytes}-byte limit`;
}

/** The 1009 reason carried in an ERR_MESSAGE_TOO_LARGE error's text (a peer's RESET or this side's), or a generic one. */
export function messageTooBigReasonFrom(text: string): string {
  return /message over the \d+-byte limit/.exec(text)?.[0] ?? 'message too big';
}
