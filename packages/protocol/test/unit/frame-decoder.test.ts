/**
 * The frame decoder fed raw bytes: one test per rejection path (class, code,
 * message), and the byte layout of the 8-byte header.
 */
import {
  decodeFrames,
  encodeFrame,
  Flag,
  FrameType,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  ProtocolError,
  type ErrorCode,
} from '@wingman/protocol';

/** Raw header bytes: type, flags, length (u16 BE), stream id (u32 BE). */
function header(type: number, flags: number, length: number, streamId: number): number[] {
  return [type, flags, length >>> 8, length & 0xff, streamId >>> 24, (streamId >>> 16) & 0xff, (streamId >>> 8) & 0xff, streamId & 0xff];
}

function rejects(bytes: number[] | Uint8Array, code: ErrorCode, message: string): void {
  let caught: unknown;
  try {
    decodeFrames(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const e = caught as ProtocolError;
  expect(e.name).toBe('ProtocolError');
  expect(e.code).toBe(code);
  expect(e.message).toBe(`${code}: ${message}`);
}

describe('decodeFrames rejects', () => {
  it('an empty message', () => {
    rejects([], 'ERR_TRUNCATED_FRAME', 'empty message');
  });

  it('a message shorter than a frame header', () => {
    rejects([FrameType.PING, 0, 0, 0, 0, 0, 0], 'ERR_TRUNCATED_FRAME', '7 bytes left, a frame header needs 8');
  });

  it('a header cut short after a whole frame', () => {
    const ok = encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8));
    rejects([...ok, FrameType.PING, 0, 0], 'ERR_TRUNCATED_FRAME', '3 bytes left, a frame header needs 8');
  });

  it('a payload shorter than its length field', () => {
    rejects([...header(FrameType.DATA, 0, 10, 1), 1, 2, 3], 'ERR_TRUNCATED_FRAME', 'frame declares 10 payload bytes, 3 present');
  });

  it('a length field above MAX_PAYLOAD_BYTES, before looking for the payload', () => {
    rejects(header(FrameType.DATA, 0, MAX_PAYLOAD_BYTES + 1, 1), 'ERR_FRAME_TOO_LARGE', `frame of ${MAX_FRAME_BYTES + 1} bytes > ${MAX_FRAME_BYTES}`);
    rejects(header(FrameType.DATA, 0, 0xffff, 1), 'ERR_FRAME_TOO_LARGE', `frame of ${0xffff + 8} bytes > ${MAX_FRAME_BYTES}`);
  });

  it('an unknown frame type', () => {
    rejects(header(0x0c, 0, 0, 1), 'ERR_UNKNOWN_FRAME_TYPE', 'frame type 0xc');
    rejects(header(0xff, 0, 0, 0), 'ERR_UNKNOWN_FRAME_TYPE', 'frame type 0xff');
  });

  it('a flag the frame type does not define', () => {
    rejects(header(FrameType.DATA, Flag.TEXT, 0, 1), 'ERR_UNKNOWN_FLAG', 'flags 0x2 on frame type 0x3');
    rejects(header(FrameType.WS_MESSAGE, Flag.END_STREAM, 0, 1), 'ERR_UNKNOWN_FLAG', 'flags 0x1 on frame type 0x7');
    rejects([...header(FrameType.PING, 0x80, 8, 0), 0, 0, 0, 0, 0, 0, 0, 0], 'ERR_UNKNOWN_FLAG', 'flags 0x80 on frame type 0x9');
    rejects(header(FrameType.WS_OPEN, Flag.END_STREAM, 0, 1), 'ERR_UNKNOWN_FLAG', 'flags 0x1 on frame type 0x6');
  });

  it('a stream frame on stream 0', () => {
    rejects(header(FrameType.DATA, 0, 0, 0), 'ERR_INVALID_STREAM_ID', 'frame type 0x3 on stream 0');
    rejects(header(FrameType.REQUEST, 0, 0, 0), 'ERR_INVALID_STREAM_ID', 'frame type 0x1 on stream 0');
  });

  it('a connection frame on a non-zero stream', () => {
    rejects(header(FrameType.PING, 0, 0, 1), 'ERR_INVALID_STREAM_ID', 'frame type 0x9 on stream 1');
    rejects(header(FrameType.HELLO, 0, 0, 0x80000000), 'ERR_INVALID_STREAM_ID', 'frame type 0x0 on stream 2147483648');
  });

  it('a whole message when its last frame is bad (no partial result)', () => {
    const ok = encodeFrame(FrameType.DATA, 0, 1, Uint8Array.of(1));
    rejects([...ok, ...header(0x0d, 0, 0, 1)], 'ERR_UNKNOWN_FRAME_TYPE', 'frame type 0xd');
  });
});

describe('frame encoding', () => {
  it('lays out type, flags, u16 length and u32 stream id big-endian', () => {
    const f = encodeFrame(FrameType.DATA, Flag.END_STREAM, 0x01020304, Uint8Array.of(0xaa, 0xbb));
    expect([...f]).toEqual([0x03, 0x01, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb]);
    expect(FRAME_HEADER_BYTES).toBe(8);
  });

  it('round-trips several frames of one message, payloads as views', () => {
    const a = encodeFrame(FrameType.PING, 0, 0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const b = encodeFrame(FrameType.WS_MESSAGE, Flag.TEXT | Flag.MORE, 0xffffffff, new Uint8Array(MAX_PAYLOAD_BYTES).fill(9));
    const c = encodeFrame(FrameType.DATA, Flag.END_STREAM, 7);
    const message = new Uint8Array([...a, ...b, ...c]);
    const frames = decodeFrames(message);
    expect(frames.map((f) => [f.type, f.flags, f.streamId, f.payload.length])).toEqual([
      [FrameType.PING, 0, 0, 8],
      [FrameType.WS_MESSAGE, Flag.TEXT | Flag.MORE, 0xffffffff, MAX_PAYLOAD_BYTES],
      [FrameType.DATA, Flag.END_STREAM, 7, 0],
    ]);
    expect(frames[1]!.payload.buffer).toBe(message.buffer);
  });

  it('accepts a frame of exactly MAX_FRAME_BYTES', () => {
    const f = encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(MAX_PAYLOAD_BYTES));
    expect(f.length).toBe(MAX_FRAME_BYTES);
    expect(decodeFrames(f)[0]!.payload.length).toBe(MAX_PAYLOAD_BYTES);
  });

  it('throws at once on caller misuse: oversized payload or bad stream id', () => {
    expect(() => encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(MAX_PAYLOAD_BYTES + 1))).toThrow(RangeError);
    expect(() => encodeFrame(FrameType.DATA, 0, -1)).toThrow(RangeError);
    expect(() => encodeFrame(FrameType.DATA, 0, 2 ** 32)).toThrow(RangeError);
    expect(() => encodeFrame(FrameType.DATA, 0, 1.5)).toThrow(RangeError);
  });
});
