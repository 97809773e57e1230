/**
 * The cap on one relayed WebSocket message (server and agent): `ws` holds whole messages, so it bounds a
 * WebSocket's memory; over it, 1009 on both legs (docs/PROTOCOL.md §WebSocket streams).
 */

/** Dev servers' messages are ≪ 1 MiB. Configurable up to MAX_WS_MESSAGE_BYTES. */
export const DEFAULT_WS_MESSAGE_LIMIT_BYTES = 1024 * 1024;

/** "Message Too Big" (RFC 6455 §7.4.1). */
export const WS_CLOSE_MESSAGE_TOO_BIG = 1009;

/** The close reason sent with 1009 (well within a close frame's 123 bytes). */
export function messageTooBigReason(limitBytes: number): string {
  return `message over the ${limitBytes}-byte limit`;
}

/** The 1009 reason carried in an ERR_MESSAGE_TOO_LARGE error's text (a peer's RESET or this side's), or a generic one. */
export function messageTooBigReasonFrom(text: string): string {
  return /message over the \d+-byte limit/.exec(text)?.[0] ?? 'message too big';
}
