import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES } from './constants';
import { protocolError } from './errors';

/** Frame types. Byte layouts: docs/PROTOCOL.md §Frames. */
export const FrameType = {
  HELLO: 0x0,
  REQUEST: 0x1,
  RESPONSE: 0x2,
  DATA: 0x3,
  WINDOW_UPDATE: 0x4,
  RESET: 0x5,
  WS_OPEN: 0x6,
  WS_MESSAGE: 0x7,
  WS_CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
  GOAWAY: 0xb,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Frame flags. Each type accepts only the flags listed in ALLOWED_FLAGS; any other bit is ERR_UNKNOWN_FLAG. */
export const Flag = {
  /** Last frame of this direction of the stream (REQUEST, RESPONSE, DATA). */
  END_STREAM: 0x1,
  /** WS_MESSAGE: the message is text (UTF-8), not binary. */
  TEXT: 0x2,
  /** WS_MESSAGE: more fragments of this message follow. */
  MORE: 0x4,
} as const;

const ALLOWED_FLAGS: Record<FrameType, number> = {
  [FrameType.HELLO]: 0,
  [FrameType.REQUEST]: Flag.END_STREAM,
  [FrameType.RESPONSE]: Flag.END_STREAM,
  [FrameType.DATA]: Flag.END_STREAM,
  [FrameType.WINDOW_UPDATE]: 0,
  [FrameType.RESET]: 0,
  [FrameType.WS_OPEN]: 0,
  [FrameType.WS_MESSAGE]: Flag.TEXT | Flag.MORE,
  [FrameType.WS_CLOSE]: 0,
  [FrameType.PING]: 0,
  [FrameType.PONG]: 0,
  [FrameType.GOAWAY]: 0,
};

/** Types that travel on stream 0 only; all others need a non-zero stream id. */
const CONNECTION_TYPES = new Set<number>([FrameType.HELLO, FrameType.PING, FrameType.PONG, FrameType.GOAWAY]);

export interface Frame {
  type: FrameType;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Encodes one frame. Throws at once on caller misuse (oversized payload, bad id). */
export function encodeFrame(type: FrameType, flags: number, streamId: number, payload: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrame(out, 0, type, flags, streamId, payload);
  return out;
}

/** Writes one frame into `out` at `offset`; returns the offset after it. */
export function writeFrame(out: Uint8Array, offset: number, type: FrameType, flags: number, streamId: number, payload: Uint8Array): number {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`frame payload ${payload.length} > ${MAX_PAYLOAD_BYTES}`);
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffffffff) throw new RangeError(`bad stream id ${streamId}`);
  out[offset] = type;
  out[offset + 1] = flags;
  out[offset + 2] = payload.length >>> 8;
  out[offset + 3] = payload.length & 0xff;
  out[offset + 4] = streamId >>> 24;
  out[offset + 5] = (streamId >>> 16) & 0xff;
  out[offset + 6] = (streamId >>> 8) & 0xff;
  out[offset + 7] = streamId & 0xff;
  out.set(payload, offset + FRAME_HEADER_BYTES);
  return offset + FRAME_HEADER_BYTES + payload.length;
}

/** A message holds whole frames; malformed input raises a coded ProtocolError. Payloads are views into `message`. */
export function decodeFrames(message: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < message.length) {
    const remaining = message.length - offset;
    if (remaining < FRAME_HEADER_BYTES) {
      throw protocolError('ERR_TRUNCATED_FRAME', `${remaining} bytes left, a frame header needs ${FRAME_HEADER_BYTES}`);
    }
    const type = message[offset]!;
    const flags = message[offset + 1]!;
    const length = (message[offset + 2]! << 8) | message[offset + 3]!;
    const streamId = ((message[offset + 4]! << 24) >>> 0) + (message[offset + 5]! << 16) + (message[offset + 6]! << 8) + message[offset + 7]!;
    if (type > FrameType.GOAWAY) throw protocolError('ERR_UNKNOWN_FRAME_TYPE', `frame type 0x${type.toString(16)}`);
    if (FRAME_HEADER_BYTES + length > MAX_FRAME_BYTES) {
      throw protocolError('ERR_FRAME_TOO_LARGE', `frame of ${FRAME_HEADER_BYTES + length} bytes > ${MAX_FRAME_BYTES}`);
    }
    if (FRAME_HEADER_BYTES + length > remaining) {
      throw protocolError('ERR_TRUNCATED_FRAME', `frame declares ${length} payload bytes, ${remaining - FRAME_HEADER_BYTES} present`);
    }
    const t = type as FrameType;
    if ((flags & ~ALLOWED_FLAGS[t]) !== 0) {
      throw protocolError('ERR_UNKNOWN_FLAG', `flags 0x${flags.toString(16)} on frame type 0x${type.toString(16)}`);
    }
    const onConnection = CONNECTION_TYPES.has(type);
    if (onConnection !== (streamId === 0)) {
      throw protocolError('ERR_INVALID_STREAM_ID', `frame type 0x${type.toString(16)} on stream ${streamId}`);
    }
    frames.push({
      type: t,
      flags,
      streamId,
      payload: message.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length),
    });
    offset += FRAME_HEADER_BYTES + length;
  }
  if (frames.length === 0) throw protocolError('ERR_TRUNCATED_FRAME', 'empty message');
  return frames;
}

export const EMPTY = new Uint8Array(0);
