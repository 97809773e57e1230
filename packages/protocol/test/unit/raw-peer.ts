/**
 * A hand-rolled peer for one real Connection: the test injects encoded frames
 * (valid or not) exactly as a transport would deliver them, and reads back
 * every frame the connection sent. Used where a well-behaved Connection on the
 * other side could never produce the input under test.
 */
import {
  concatBytes,
  Connection,
  decodeFrames,
  encodeCodeReason,
  encodeFrame,
  encodeHello,
  encodeRequestHead,
  encodeResponseHead,
  encodeWindowUpdate,
  CAPABILITIES,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_STREAM_WINDOW_BYTES,
  ERROR_CODES,
  Flag,
  FrameType,
  PROTOCOL_VERSION,
  type ConnectionOptions,
  type ErrorCode,
  type Frame,
  type Hello,
  type ProtocolError,
  type RequestHead,
  type ResponseHead,
} from '@wingman/protocol';

export interface RawPeer {
  /** The connection under test. */
  conn: Connection;
  /** Every frame the connection handed to its transport, decoded, in order. */
  sent: Frame[];
  /** Payloads of transport messages, as sent (for size checks). */
  messages: Uint8Array[];
  /** What the connection emitted as 'error'. */
  errors: ProtocolError[];
  /** Set once the connection emitted 'close'. */
  closed: { error: ProtocolError | undefined } | undefined;
  /** True once the connection called transport.close(). */
  transportClosed: boolean;
  /** Delivers one transport message holding these encoded frames. */
  inject(...frames: Uint8Array[]): void;
  /** Lets the connection's pump run (drains microtasks and one macrotask turn). */
  settle(): Promise<void>;
  /** Frames of one type the connection sent. */
  sentOfType(type: FrameType): Frame[];
}

export interface RawPeerOptions extends Partial<Omit<ConnectionOptions, 'transport'>> {
  /** Makes transport.send throw from the n-th call on (1-based). */
  sendThrowsFrom?: number;
  /** The transport reports a full buffer: the pump sends nothing (a peer that does not read). */
  transportFull?: boolean;
}

/** A Connection (role 'server' unless told) wired to a recording transport. */
export function createRawPeer(options: RawPeerOptions = {}): RawPeer {
  const { sendThrowsFrom, transportFull, ...connOptions } = options;
  let sends = 0;
  const peer: RawPeer = {
    conn: undefined as unknown as Connection,
    sent: [],
    messages: [],
    errors: [],
    closed: undefined,
    transportClosed: false,
    inject: (...frames) => peer.conn.receive(concatBytes(frames)),
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    sentOfType: (type) => peer.sent.filter((f) => f.type === type),
  };
  peer.conn = new Connection({
    role: 'server',
    ...connOptions,
    transport: {
      send: (m) => {
        sends++;
        if (sendThrowsFrom !== undefined && sends >= sendThrowsFrom) throw new Error('transport is gone');
        const copy = m.slice();
        peer.messages.push(copy);
        peer.sent.push(...decodeFrames(copy));
      },
      bufferedAmount: () => (transportFull ? Number.MAX_SAFE_INTEGER : 0),
      close: () => {
        peer.transportClosed = true;
      },
    },
  });
  peer.conn.on('error', (e) => peer.errors.push(e));
  peer.conn.on('close', (error) => {
    peer.closed = { error };
  });
  return peer;
}

// ---- frame builders ----------------------------------------------------------

export function hello(overrides: Partial<Hello> = {}): Uint8Array {
  return encodeFrame(
    FrameType.HELLO,
    0,
    0,
    encodeHello({
      version: PROTOCOL_VERSION,
      capabilities: CAPABILITIES.HTTP | CAPABILITIES.WEBSOCKET,
      maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
      initialWindow: DEFAULT_STREAM_WINDOW_BYTES,
      ...overrides,
    }),
  );
}

export const GET: RequestHead = { method: 'GET', target: '/', headers: [['host', 'example.localhost']] };

export function request(id: number, head: RequestHead = GET, end = false): Uint8Array {
  return encodeFrame(FrameType.REQUEST, end ? Flag.END_STREAM : 0, id, encodeRequestHead(head));
}

export function wsOpen(id: number, head: RequestHead = { ...GET, target: '/ws' }): Uint8Array {
  return encodeFrame(FrameType.WS_OPEN, 0, id, encodeRequestHead(head));
}

export function response(id: number, head: ResponseHead = { status: 200, headers: [] }, end = false): Uint8Array {
  return encodeFrame(FrameType.RESPONSE, end ? Flag.END_STREAM : 0, id, encodeResponseHead(head));
}

export function data(id: number, bytes: Uint8Array | number, end = false): Uint8Array {
  const payload = typeof bytes === 'number' ? new Uint8Array(bytes).fill(0x61) : bytes;
  return encodeFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, payload);
}

export function wsMessage(id: number, payload: Uint8Array, flags = 0): Uint8Array {
  return encodeFrame(FrameType.WS_MESSAGE, flags, id, payload);
}

export function wsClose(id: number, code = 1000, reason = ''): Uint8Array {
  return encodeFrame(FrameType.WS_CLOSE, 0, id, encodeCodeReason(code, reason));
}

export function reset(id: number, code: ErrorCode, reason = ''): Uint8Array {
  return encodeFrame(FrameType.RESET, 0, id, encodeCodeReason(ERROR_CODES[code], reason));
}

export function windowUpdate(id: number, increment: number): Uint8Array {
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, id, encodeWindowUpdate(increment));
}

export function ping(payload = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)): Uint8Array {
  return encodeFrame(FrameType.PING, 0, 0, payload);
}

export function goaway(code: ErrorCode, reason = ''): Uint8Array {
  return encodeFrame(FrameType.GOAWAY, 0, 0, encodeCodeReason(ERROR_CODES[code], reason));
}

/** Error code carried by a RESET or GOAWAY frame the connection sent. */
export function codeOf(frame: Frame): ErrorCode {
  const n = (frame.payload[0]! << 8) | frame.payload[1]!;
  const entry = (Object.entries(ERROR_CODES) as Array<[ErrorCode, number]>).find(([, v]) => v === n);
  if (!entry) throw new Error(`frame carries unknown error number ${n}`);
  return entry[0];
}
