/**
 * Every limit of the Wingman wire protocol, with its unit in the name.
 * The byte layouts that use them are in docs/PROTOCOL.md.
 */

/** First four bytes of a HELLO payload: ASCII "WGMN". */
export const MAGIC = Uint8Array.of(0x57, 0x47, 0x4d, 0x4e);

/** Wire protocol version spoken by this implementation. A peer with another version gets ERR_UNSUPPORTED_VERSION. */
export const PROTOCOL_VERSION = 1;

/** Size of every frame header: type u8, flags u8, length u16, stream id u32. */
export const FRAME_HEADER_BYTES = 8;

/**
 * Largest whole frame (header + payload). 16 KiB is the message size every
 * data-channel stack accepts unfragmented.
 * @see https://github.com/libp2p/specs/blob/master/webrtc/README.md#multiplexing (MAX_MESSAGE_SIZE = 16 KiB)
 * @see https://developer.mozilla.org/en-US/docs/Web/API/WebRTC_API/Using_data_channels#understanding_message_size_limits
 */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Largest frame payload. */
export const MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;

/**
 * Default receive window per stream and direction (flow-controlled bytes a
 * sender may have in flight before a WINDOW_UPDATE). 256 KiB keeps a loopback
 * or LAN hop saturated (window / RTT ≫ link rate) while bounding what one
 * stream can make a peer buffer.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 256 * 1024;

/** Largest window a peer may advertise or grow a stream to: 2^31 − 1, as HTTP/2 (RFC 9113 §6.9.1). */
export const MAX_WINDOW_BYTES = 0x7fffffff;

/** Default cap on concurrently open streams a peer may open towards us. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;

/** Largest number of header fields in one request or response head (Node's default maxHeadersCount is 2000; real heads carry < 100). */
export const MAX_HEADER_COUNT = 256;

/** Largest header name, bytes (its length is a u8 on the wire). */
export const MAX_HEADER_NAME_BYTES = 255;

/** Largest method token, bytes (its length is a u8 on the wire). */
export const MAX_METHOD_BYTES = 32;

/** Largest request target (path + query), bytes. Browsers and most servers cap URLs at 8–16 KiB. */
export const MAX_TARGET_BYTES = 8 * 1024;

/** Largest reason text carried in RESET, WS_CLOSE and GOAWAY, bytes (WebSocket's close reason is ≤ 123 bytes). */
export const MAX_REASON_BYTES = 256;

/** Largest reassembled WebSocket message, bytes (ws's default maxPayload is 100 MiB; dev servers send ≪ 1 MiB). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Length of a PING / PONG payload, bytes (opaque, echoed). */
export const PING_PAYLOAD_BYTES = 8;

/** Default time to wait for a PONG, ms. */
export const PING_TIMEOUT_MS = 10_000;

/**
 * How long peer-gone.ts waits for a PONG before signaling's word that the
 * peer left ends a channel, ms. A PONG comes back within one round trip
 * (at most a few hundred ms on the lab's far paths), and one queued behind
 * a transfer is excused by the transfer's own bytes; the exchanges on a
 * dead channel hang for this long before they move to the relay.
 */
export const GONE_CHECK_TIMEOUT_MS = 1_000;

/** Bytes a stream may queue for sending before write() reports backpressure. */
export const STREAM_SEND_HIGH_WATER_BYTES = 256 * 1024;

/**
 * Bytes a stream may queue beyond what its send window lets out now before
 * write() reports backpressure (below STREAM_SEND_HIGH_WATER_BYTES): a
 * stream the peer grants no credit to (a viewer that stopped reading) keeps
 * one more read of its source, not a whole high-water mark, so a thousand
 * stalled streams hold 64 MiB rather than 256. One read of a socket is 64 KiB.
 */
export const STREAM_SEND_BEYOND_WINDOW_BYTES = 64 * 1024;

/** Default transport high-water mark: the pump stops while the transport buffers more than this. */
export const TRANSPORT_HIGH_WATER_BYTES = 1024 * 1024;

/** A receiver returns credit once this fraction of the window has been consumed (1/4: an update per 64 KiB by default). */
export const WINDOW_UPDATE_DIVISOR = 4;

/**
 * Receive-window auto-tuning ceiling per stream (docs/PROTOCOL.md §Flow
 * control). A stream whose consumer keeps up has its window doubled with each
 * update, up to this: the initial 256 KiB caps one stream at window / RTT,
 * which a loaded machine's few-millisecond scheduling RTT turns into a
 * bottleneck (measured: relayed 100 MiB GET ×0.28 → ×0.49–0.52 of direct).
 * 4 MiB was no faster and let a relayed 1 GiB download to a slow reader peak
 * 40–52 MiB above its start (2 MiB: 40–43; the goal is ~50).
 */
export const DEFAULT_MAX_STREAM_WINDOW_BYTES = 2 * 1024 * 1024;

/**
 * Connection-wide bound on auto-tuning: the sum of every open stream's growth
 * beyond its initial window. What a receiver can be made to buffer stays
 * initial window × open streams + this, however many streams grow.
 */
export const DEFAULT_WINDOW_GROWTH_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Control frames (PONG, RESET, WINDOW_UPDATE…) this side may have queued
 * before a peer that keeps provoking them without reading is cut off with
 * ERR_FLOOD — HTTP/2 stacks' answer to PING and RESET floods (CVE-2019-9512,
 * -9514). Legitimate queues stay far below: one WINDOW_UPDATE or RESET per
 * open stream (≤ 1 024) plus a few PONGs.
 */
export const MAX_QUEUED_CONTROL_FRAMES = 10_000;
