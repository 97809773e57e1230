/**
 * A multiplexed connection over any message transport (a WebSocket, an
 * RTCDataChannel, a MessagePort). Owns the HELLO exchange, stream ids and
 * concurrency, the send pump (transport backpressure), GOAWAY and close, and
 * wires the parts: frame-packer.ts (send queue, round-robin packing),
 * frame-dispatch.ts (frames of open streams), ping-tracker.ts (PING/PONG).
 * docs/PROTOCOL.md describes the rules.
 */
import {
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_STREAM_WINDOW_BYTES,
  DEFAULT_STREAM_WINDOW_BYTES,
  DEFAULT_WINDOW_GROWTH_BUDGET_BYTES,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_QUEUED_CONTROL_FRAMES,
  MAX_WINDOW_BYTES,
  MAX_WS_MESSAGE_BYTES,
  PING_PAYLOAD_BYTES,
  PING_TIMEOUT_MS,
  PROTOCOL_VERSION,
  TRANSPORT_HIGH_WATER_BYTES,
} from './constants';
import { Emitter } from './emitter';
import { ERROR_CODES, ProtocolError, protocolError, type ErrorCode } from './errors';
import { dispatchStreamFrame } from './frame-dispatch';
import { decodeFrames, Flag, FrameType, writeFrame, type Frame } from './frame';
import { FramePacker } from './frame-packer';
import { CAPABILITIES, decodeCodeReason, decodeHello, decodeRequestHead, encodeCodeReason, encodeHello, encodeRequestHead, type Hello, type RequestHead } from './payload';
import { PingTracker } from './ping-tracker';
import { Stream, type StreamHost, type StreamKind } from './stream';

/** The message transport under a connection. Adapters live with each runtime (ws, RTCDataChannel, MessagePort). */
export interface Transport {
  /** Sends one message holding one or more whole frames. */
  send(message: Uint8Array): void;
  /** Bytes accepted by send() but not yet handed to the network. */
  bufferedAmount(): number;
  /** Closes the transport; the owner then calls connection.transportClosed(). */
  close(): void;
}

export interface ConnectionOptions {
  /** 'client' opens odd stream ids, 'server' even ones (as HTTP/2). Both sides may open streams. */
  role: 'client' | 'server';
  transport: Transport;
  /** Largest message handed to transport.send(): several small frames share one message up to this size. Default MAX_FRAME_BYTES (16 KiB, safe for every data channel). */
  maxMessageBytes?: number;
  /** The pump pauses while transport.bufferedAmount() is above this. Default TRANSPORT_HIGH_WATER_BYTES. */
  highWaterBytes?: number;
  /** Receive window granted to each stream. Default DEFAULT_STREAM_WINDOW_BYTES. */
  initialWindow?: number;
  /** Auto-tuning ceiling of a stream's receive window; `initialWindow` turns auto-tuning off. Default DEFAULT_MAX_STREAM_WINDOW_BYTES (never below initialWindow). */
  maxStreamWindow?: number;
  /** Connection-wide sum of auto-tuning growth beyond the initial windows. Default DEFAULT_WINDOW_GROWTH_BUDGET_BYTES. */
  windowGrowthBudget?: number;
  /**
   * Allocates a buffer that messages are built in. Default `new Uint8Array(n)`;
   * in Node pass `Buffer.allocUnsafe` (no zero-fill). A message filling at least
   * half of its buffer is handed to the transport as a view of it, without a copy.
   */
  allocate?: (bytes: number) => Uint8Array;
  /** Streams the peer may have open towards us at once. Default DEFAULT_MAX_CONCURRENT_STREAMS. */
  maxConcurrentStreams?: number;
  /**
   * Largest WebSocket message accepted from the peer, bytes (1 … MAX_WS_MESSAGE_BYTES):
   * a longer one resets its stream with ERR_MESSAGE_TOO_LARGE as soon as its
   * fragments pass this, so reassembly never buffers more. Default MAX_WS_MESSAGE_BYTES.
   */
  maxWsMessageBytes?: number;
}

export interface ConnectionEvents {
  /** The peer's HELLO arrived; streams may flow. */
  ready: (hello: Hello) => void;
  /** The peer opened a stream. Attach listeners synchronously. */
  stream: (stream: Stream) => void;
  /** A connection-level protocol error (this side sends GOAWAY and closes). */
  error: (error: ProtocolError) => void;
  /** The peer said GOAWAY. */
  goaway: (code: ErrorCode, reason: string) => void;
  /** The connection is over; every stream has been failed. Final. */
  close: (error?: ProtocolError) => void;
}

const PEER_DEFAULT_HELLO: Hello = {
  version: PROTOCOL_VERSION,
  capabilities: 0,
  maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
  initialWindow: DEFAULT_STREAM_WINDOW_BYTES,
};

export class Connection extends Emitter<ConnectionEvents> implements StreamHost {
  readonly localWindow: number;
  readonly maxStreamWindow: number;
  readonly maxWsMessageBytes: number;
  private readonly windowGrowthBudget: number;
  private windowGrowthReserved = 0;
  private readonly maxConcurrentStreams: number;
  private readonly transport: Transport;
  private readonly highWaterBytes: number;
  private readonly packer: FramePacker;
  private readonly pings = new PingTracker();
  private peer: Hello | undefined;
  private readonly streams = new Map<number, Stream>();
  private nextLocalId: number;
  private lastPeerId = 0;
  private peerOpened = 0;
  private localOpened = 0;
  private pumpScheduled = false;
  private closedFlag = false;
  /** Bytes sent and received on the transport (frames, headers included). */
  bytesSent = 0;
  bytesReceived = 0;

  constructor(options: ConnectionOptions) {
    super();
    this.transport = options.transport;
    this.nextLocalId = options.role === 'client' ? 1 : 2;
    const maxMessageBytes = Math.max(MAX_FRAME_BYTES, options.maxMessageBytes ?? MAX_FRAME_BYTES);
    this.highWaterBytes = options.highWaterBytes ?? TRANSPORT_HIGH_WATER_BYTES;
    this.localWindow = options.initialWindow ?? DEFAULT_STREAM_WINDOW_BYTES;
    this.maxConcurrentStreams = Math.min(0xffff, options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS);
    if (this.localWindow < MAX_PAYLOAD_BYTES || this.localWindow > MAX_WINDOW_BYTES) throw new RangeError(`initialWindow ${this.localWindow} out of range`);
    this.maxStreamWindow = Math.min(MAX_WINDOW_BYTES, Math.max(this.localWindow, options.maxStreamWindow ?? DEFAULT_MAX_STREAM_WINDOW_BYTES));
    this.maxWsMessageBytes = options.maxWsMessageBytes ?? MAX_WS_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxWsMessageBytes) || this.maxWsMessageBytes < 1 || this.maxWsMessageBytes > MAX_WS_MESSAGE_BYTES) {
      throw new RangeError(`maxWsMessageBytes ${this.maxWsMessageBytes} out of range (1 … ${MAX_WS_MESSAGE_BYTES})`);
    }
    this.windowGrowthBudget = Math.max(0, options.windowGrowthBudget ?? DEFAULT_WINDOW_GROWTH_BUDGET_BYTES);
    this.packer = new FramePacker(maxMessageBytes, options.allocate ?? ((n) => new Uint8Array(n)));
    this.sendControl(
      FrameType.HELLO,
      0,
      encodeHello({
        version: PROTOCOL_VERSION,
        capabilities: CAPABILITIES.HTTP | CAPABILITIES.WEBSOCKET,
        maxConcurrentStreams: this.maxConcurrentStreams,
        initialWindow: this.localWindow,
      }),
    );
  }

  get isReady(): boolean {
    return this.peer !== undefined && !this.closedFlag;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Streams the peer accepts open at once from this side: its HELLO's limit (the protocol default before the HELLO). */
  get peerMaxConcurrentStreams(): number {
    return (this.peer ?? PEER_DEFAULT_HELLO).maxConcurrentStreams;
  }

  /** Streams currently open (either side). */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Opens a stream carrying an HTTP request (kind 'http') or a WebSocket
   * (kind 'ws'). Throws a ProtocolError (ERR_TOO_MANY_STREAMS, ERR_GOING_AWAY,
   * or a head error) when it cannot be opened; nothing is sent then.
   */
  open(kind: StreamKind, head: RequestHead, options: { end?: boolean } = {}): Stream {
    if (this.closedFlag) throw protocolError('ERR_GOING_AWAY', 'connection is closed');
    const limit = (this.peer ?? PEER_DEFAULT_HELLO).maxConcurrentStreams;
    if (this.localOpened >= limit) throw protocolError('ERR_TOO_MANY_STREAMS', `peer accepts ${limit} open streams`);
    if (kind === 'ws' && head.method !== 'GET') throw protocolError('ERR_INVALID_HEAD', 'a WebSocket opens with GET');
    const payload = encodeRequestHead(head);
    if (this.nextLocalId > 0xfffffffe) throw protocolError('ERR_GOING_AWAY', 'stream ids exhausted');
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const stream = new Stream(this, id, kind, head, true, (this.peer ?? PEER_DEFAULT_HELLO).initialWindow);
    this.streams.set(id, stream);
    this.localOpened++;
    stream.queueOpen(kind === 'ws' ? FrameType.WS_OPEN : FrameType.REQUEST, payload, kind === 'http' && options.end === true);
    return stream;
  }

  /** Measures a round trip with PING/PONG; rejects with ERR_TIMEOUT after `timeoutMs`. */
  ping(timeoutMs = PING_TIMEOUT_MS): Promise<number> {
    if (this.closedFlag) return Promise.reject(protocolError('ERR_GOING_AWAY', 'connection is closed'));
    return this.pings.start(timeoutMs, (payload) => this.sendControl(FrameType.PING, 0, payload));
  }

  /** Feeds one message from the transport. Never throws on bad input: a violation closes this connection with a coded GOAWAY. */
  receive(message: Uint8Array): void {
    if (this.closedFlag) return;
    this.bytesReceived += message.length;
    try {
      for (const frame of decodeFrames(message)) {
        this.handle(frame);
        if (this.closedFlag) return;
        // Only the peer's frames can grow the queue without bound (each PING
        // wants a PONG, each violation a RESET) while it does not read.
        const queued = this.packer.control.length;
        if (queued > MAX_QUEUED_CONTROL_FRAMES) {
          throw protocolError('ERR_FLOOD', `${queued} control frames queued: the peer provokes answers it does not read`);
        }
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.fail(err);
      else throw err;
    }
  }

  /** Sends GOAWAY and closes. Open streams fail with `code`. */
  close(code: ErrorCode = 'ERR_GOING_AWAY', reason = ''): void {
    if (this.closedFlag) return;
    this.sendNow(FrameType.GOAWAY, encodeCodeReason(ERROR_CODES[code], reason));
    this.destroy(code === 'ERR_GOING_AWAY' ? undefined : protocolError(code, reason || 'closed'));
    this.transport.close();
  }

  /** The transport closed under us: fail every stream with ERR_CONNECTION_LOST. */
  transportClosed(): void {
    this.destroy(protocolError('ERR_CONNECTION_LOST', 'transport closed'));
  }

  /** The transport's buffer drained (bufferedamountlow, ws send callback): resume the pump. */
  drain(): void {
    this.schedulePump();
  }

  // ---- StreamHost ---------------------------------------------------------

  schedulePump(): void {
    if (this.pumpScheduled || this.closedFlag) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  markReady(stream: Stream): void {
    if (stream.closed || this.closedFlag) return;
    this.packer.addReady(stream);
    this.schedulePump();
  }

  sendControl(type: FrameType, streamId: number, payload: Uint8Array, flags = 0): void {
    if (this.closedFlag) return;
    this.packer.pushControl(type, streamId, payload, flags);
    this.schedulePump();
  }

  reserveWindowGrowth(bytes: number): number {
    const granted = Math.max(0, Math.min(bytes, this.windowGrowthBudget - this.windowGrowthReserved));
    this.windowGrowthReserved += granted;
    return granted;
  }

  releaseWindowGrowth(bytes: number): void {
    this.windowGrowthReserved = Math.max(0, this.windowGrowthReserved - bytes);
  }

  streamFinished(stream: Stream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.packer.removeStream(stream);
    if (stream.local) this.localOpened--;
    else this.peerOpened--;
  }

  // ---- internals ------------------------------------------------------------

  private pump(): void {
    while (!this.closedFlag && this.transport.bufferedAmount() < this.highWaterBytes) {
      const message = this.packer.buildMessage(this.peer !== undefined);
      // A listener run while building ('drain', 'close') may have closed the connection.
      if (!message || this.closedFlag) return;
      this.bytesSent += message.length;
      try {
        this.transport.send(message);
        // Only once the frames are handed over: 'drain', and a stream whose
        // END just left may finish (a failed send fails it instead).
        this.packer.sent();
      } catch (err) {
        this.packer.sendFailed();
        // The pump runs in a microtask: an exception here would be uncaught. A
        // transport that refuses to send is gone (e.g. a data channel closing).
        this.destroy(protocolError('ERR_CONNECTION_LOST', `transport send failed: ${err instanceof Error ? err.message : String(err)}`));
        try {
          this.transport.close();
        } catch {
          // Already closed.
        }
        return;
      }
    }
  }

  private handle(frame: Frame): void {
    if (!this.peer) {
      if (frame.type !== FrameType.HELLO) throw protocolError('ERR_HELLO_EXPECTED', `first frame is type 0x${frame.type.toString(16)}, not HELLO`);
      this.peer = decodeHello(frame.payload);
      // Streams opened before the HELLO assumed the default window and nothing
      // of theirs has left yet (stream frames wait for the HELLO): move them to
      // the window the peer grants, as SETTINGS_INITIAL_WINDOW_SIZE does (RFC 9113 §6.9.2).
      const delta = this.peer.initialWindow - PEER_DEFAULT_HELLO.initialWindow;
      if (delta !== 0) for (const s of this.streams.values()) s.shiftSendWindow(delta);
      this.emit('ready', this.peer);
      this.schedulePump();
      return;
    }
    switch (frame.type) {
      case FrameType.HELLO:
        throw protocolError('ERR_PROTOCOL', 'second HELLO');
      case FrameType.PING:
        if (frame.payload.length !== PING_PAYLOAD_BYTES) throw protocolError('ERR_INVALID_PAYLOAD', `PING payload of ${frame.payload.length} bytes`);
        this.sendControl(FrameType.PONG, 0, frame.payload.slice());
        return;
      case FrameType.PONG:
        if (frame.payload.length !== PING_PAYLOAD_BYTES) throw protocolError('ERR_INVALID_PAYLOAD', `PONG payload of ${frame.payload.length} bytes`);
        this.pings.pong(frame.payload);
        return;
      case FrameType.GOAWAY: {
        const { code, reason } = decodeCodeReason(frame.payload);
        const c = codeFromNumber(code);
        this.emit('goaway', c, reason);
        this.destroy(protocolError(c === 'ERR_GOING_AWAY' ? 'ERR_GOING_AWAY' : c, `peer said GOAWAY: ${reason}`));
        this.transport.close();
        return;
      }
      case FrameType.REQUEST:
      case FrameType.WS_OPEN:
        this.openFromPeer(frame);
        return;
      default:
        this.onStreamFrame(frame);
    }
  }

  private openFromPeer(frame: Frame): void {
    const id = frame.streamId;
    const peerParity = this.nextLocalId % 2 === 1 ? 0 : 1;
    if (id % 2 !== peerParity || id <= this.lastPeerId) {
      throw protocolError('ERR_INVALID_STREAM_ID', `peer opened stream ${id} (last ${this.lastPeerId}, wrong parity or reused)`);
    }
    this.lastPeerId = id;
    const kind: StreamKind = frame.type === FrameType.WS_OPEN ? 'ws' : 'http';
    if (this.peerOpened >= this.maxConcurrentStreams) {
      this.sendControl(FrameType.RESET, id, encodeCodeReason(ERROR_CODES.ERR_TOO_MANY_STREAMS, `at most ${this.maxConcurrentStreams} open streams`));
      return;
    }
    let head: RequestHead;
    try {
      head = decodeRequestHead(frame.payload);
      if (kind === 'ws' && head.method !== 'GET') throw protocolError('ERR_INVALID_HEAD', 'a WebSocket opens with GET');
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.sendControl(FrameType.RESET, id, encodeCodeReason(ERROR_CODES[err.code], err.message));
      return;
    }
    const stream = new Stream(this, id, kind, head, false, this.peer!.initialWindow);
    this.streams.set(id, stream);
    this.peerOpened++;
    this.emit('stream', stream);
    if (frame.flags & Flag.END_STREAM) stream.receiveEnd();
  }

  private onStreamFrame(frame: Frame): void {
    const stream = this.streams.get(frame.streamId);
    if (!stream) {
      const id = frame.streamId;
      const ours = id % 2 === this.nextLocalId % 2;
      const known = ours ? id < this.nextLocalId : id <= this.lastPeerId;
      // Frames for a stream that just closed cross in flight: ignore them (RFC 9113 §5.1, "closed").
      if (known) return;
      throw protocolError('ERR_INVALID_STREAM_ID', `frame type 0x${frame.type.toString(16)} for idle stream ${id}`);
    }
    dispatchStreamFrame(stream, frame, this);
  }

  private fail(error: ProtocolError): void {
    if (this.closedFlag) return;
    this.emit('error', error);
    this.sendNow(FrameType.GOAWAY, encodeCodeReason(ERROR_CODES[error.code], error.message));
    this.destroy(error);
    this.transport.close();
  }

  private sendNow(type: FrameType, payload: Uint8Array): void {
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
    writeFrame(frame, 0, type, 0, 0, payload);
    try {
      // Closed before the first pump ran: the peer must still see our HELLO first.
      const hello = this.packer.takeUnsentHello();
      if (hello !== undefined) this.transport.send(hello);
      this.transport.send(frame);
    } catch {
      // The transport is already gone; closing proceeds regardless.
    }
  }

  private destroy(error?: ProtocolError): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const streamError = error ?? protocolError('ERR_GOING_AWAY', 'connection closed');
    for (const stream of [...this.streams.values()]) stream.fail(streamError);
    this.streams.clear();
    this.packer.clear();
    this.pings.rejectAll(streamError);
    this.emit('close', error);
  }
}

function codeFromNumber(n: number): ErrorCode {
  for (const [k, v] of Object.entries(ERROR_CODES)) if (v === n) return k as ErrorCode;
  return 'ERR_PROTOCOL';
}
