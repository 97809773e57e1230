/** Every limit of the Wingman wire protocol, with its unit in the name (docs/PROTOCOL.md §Limits). */

/** ASCII "WGMN", opening a HELLO payload. */
export const MAGIC = Uint8Array.of(0x57, 0x47, 0x4d, 0x4e);

/** A peer with another version gets ERR_UNSUPPORTED_VERSION. */
export const PROTOCOL_VERSION = 1;

/** type u8, flags u8, length u16, stream id u32. */
export const FRAME_HEADER_BYTES = 8;

/** Header + payload: 16 KiB is the message every data-channel stack accepts unfragmented. */
export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;

/** Per stream and direction: keeps a loopback or LAN hop saturated while bounding what one stream makes a peer buffer. */
export const DEFAULT_STREAM_WINDOW_BYTES = 256 * 1024;

/** 2^31 − 1, as HTTP/2 (RFC 9113 §6.9.1). */
export const MAX_WINDOW_BYTES = 0x7fffffff;

export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;

/** Real heads carry < 100 fields. */
export const MAX_HEADER_COUNT = 256;

/** Its length is a u8 on the wire. */
export const MAX_HEADER_NAME_BYTES = 255;

export const MAX_METHOD_BYTES = 32;

/** Path + query: browsers and most servers cap URLs at 8–16 KiB. */
export const MAX_TARGET_BYTES = 8 * 1024;

/** In RESET, WS_CLOSE and GOAWAY (WebSocket's close reason is ≤ 123 bytes). */
export const MAX_REASON_BYTES = 256;

/** Reassembled (ws's default maxPayload is 100 MiB; dev servers send ≪ 1 MiB). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024 * 1024;

export const PING_PAYLOAD_BYTES = 8;
export const PING_TIMEOUT_MS = 10_000;

/** peer-gone.ts's wait for a PONG: one round trip is a few hundred ms at most; a dead channel's exchanges hang this long. */
export const GONE_CHECK_TIMEOUT_MS = 1_000;

/** Bytes a stream may queue for sending before write() reports backpressure. */
export const STREAM_SEND_HIGH_WATER_BYTES = 256 * 1024;

/** Queued beyond the send window before backpressure: one socket read, so 1000 stalled streams hold 64 MiB, not 256. */
export const STREAM_SEND_BEYOND_WINDOW_BYTES = 64 * 1024;

/** The pump stops while the transport buffers more than this. */
export const TRANSPORT_HIGH_WATER_BYTES = 1024 * 1024;

/** Credit returns once 1/4 of the window is consumed. */
export const WINDOW_UPDATE_DIVISOR = 4;

/** Auto-tuning ceiling per stream; 4 MiB was no faster and buffered more (docs/PROTOCOL.md §Flow control). */
export const DEFAULT_MAX_STREAM_WINDOW_BYTES = 2 * 1024 * 1024;

/** Connection-wide sum of growth beyond initial windows, so a receiver buffers at most window × streams + this. */
export const DEFAULT_WINDOW_GROWTH_BUDGET_BYTES = 32 * 1024 * 1024;

/** Queued control frames that cut off a peer provoking them without reading (ERR_FLOOD; CVE-2019-9512, -9514). */
export const MAX_QUEUED_CONTROL_FRAMES = 10_000;
