/**
 * Stable error codes of the wire protocol. The numeric value travels in RESET,
 * WS_CLOSE-less failures and GOAWAY; the string is what code and logs see.
 * Listed, with their meaning, in docs/PROTOCOL.md §Errors.
 */
export const ERROR_CODES = {
  ERR_PROTOCOL: 1,
  ERR_BAD_MAGIC: 2,
  ERR_UNSUPPORTED_VERSION: 3,
  ERR_HELLO_EXPECTED: 4,
  ERR_FRAME_TOO_LARGE: 5,
  ERR_TRUNCATED_FRAME: 6,
  ERR_UNKNOWN_FRAME_TYPE: 7,
  ERR_UNKNOWN_FLAG: 8,
  ERR_INVALID_STREAM_ID: 9,
  ERR_STREAM_CLOSED: 10,
  ERR_TOO_MANY_STREAMS: 11,
  ERR_FLOW_CONTROL: 12,
  ERR_INVALID_HEAD: 13,
  ERR_TOO_MANY_HEADERS: 14,
  ERR_HEADER_TOO_LARGE: 15,
  ERR_INVALID_HEADER: 16,
  ERR_INVALID_PAYLOAD: 17,
  ERR_MESSAGE_TOO_LARGE: 18,
  ERR_CANCEL: 19,
  ERR_UPSTREAM_UNREACHABLE: 20,
  ERR_UPSTREAM_TIMEOUT: 21,
  ERR_UPSTREAM_ERROR: 22,
  ERR_INTERNAL: 23,
  ERR_GOING_AWAY: 24,
  ERR_CONNECTION_LOST: 25,
  ERR_TIMEOUT: 26,
  ERR_FLOOD: 27,
  ERR_OVERLOADED: 28,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Maps a wire number to its code; unknown numbers map to ERR_PROTOCOL (never throws: peers may be newer).
 * A search, not a table built at load: a bundle that only throws errors (the shell's inline script) leaves the codes out.
 */
export function errorCodeFromNumber(n: number): ErrorCode {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).find((k) => ERROR_CODES[k] === n) ?? 'ERR_PROTOCOL';
}

/** The one error class of the protocol: every rejection carries a stable `code`. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The one error factory: every decoder and state check goes through it. */
export function protocolError(code: ErrorCode, message: string): ProtocolError {
  return new ProtocolError(code, `${code}: ${message}`);
}
