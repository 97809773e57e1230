/**
 * A multiplexed connection over any message transport: the HELLO exchange, the send pump, GOAWAY and
 * close, wiring stream-table.ts, frame-packer.ts and frame-dispatch.ts. docs/PROTOCOL.md §Connection.
 */
import {
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_STREAM_WINDOW_BYTES,
  MAX_QUEUED_CONTROL_FRAMES,
  PING_PAYLOAD_BYTES,
  PING_TIMEOUT_MS,
  PROTOCOL_VERSION,
} from './constants';
import { resolveOptions, type ConnectionEvents, type ConnectionOptions, type Transport } from './connection-options';
import { Emitter } from './emitter';
import { ProtocolError, protocolError, type ErrorCode } from './errors';
import { dispatchStreamFrame } from './frame-dispatch';
import { decodeFrames, encodeFrame, Flag, FrameType, type Frame } from './frame';
import { FramePacker } from './frame-packer';
import { CAPABILITIES, decodeHello, decodeReset, encodeHello, encodeReset, type Hello, type RequestHead } from './payload';
import { PingTracker } from './ping-tracker';
import type { Stream, StreamHost, StreamKind } from './stream';
import { StreamTable } from './stream-table';

export type { ConnectionOptions };

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
  private readonly o: ReturnType<typeof resolveOptions>;
  private windowGrowthReserved = 0;
  private readonly transport: Transport;
  private readonly packer: FramePacker;
  private readonly pings = new PingTracker();
  private peer: Hello | undefined;
  /** ConnectionOptions.speaksSecond, until the peer's HELLO: nothing leaves. */
  private silent: boolean;
  private readonly streams: StreamTable;
  private pumpScheduled = false;
  private closedFlag = false;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(options: ConnectionOptions) {
    super();
    const o = (this.o = resolveOptions(options));
    this.transport = options.transport;
    this.silent = o.speaksSecond;
    ({ localWindow: this.localWindow, maxStreamWindow: this.maxStreamWindow, maxWsMessageBytes: this.maxWsMessageBytes } = o);
    this.packer = new FramePacker(o.maxMessageBytes, o.allocate);
    this.streams = new StreamTable(this, options.role, o.maxConcurrentStreams);
    this.sendControl(
      FrameType.HELLO,
      0,
      encodeHello({
        version: PROTOCOL_VERSION,
        capabilities: CAPABILITIES.HTTP | CAPABILITIES.WEBSOCKET,
        maxConcurrentStreams: o.maxConcurrentStreams,
        initialWindow: this.localWindow,
      }),
    );
  }

  /** The peer's HELLO arrived and neither the connection nor its transport is closing: a new stream can reach the peer. */
  get isReady(): boolean {
    return this.peer !== undefined && !this.closedFlag && (this.transport.isOpen?.() ?? true);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Streams the peer accepts open at once from this side: its HELLO's limit (the protocol default before the HELLO). */
  get peerMaxConcurrentStreams(): number {
    return (this.peer ?? PEER_DEFAULT_HELLO).maxConcurrentStreams;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Throws a ProtocolError (ERR_TOO_MANY_STREAMS, ERR_GOING_AWAY, a head error) when it cannot open; nothing is sent then. */
  open(kind: StreamKind, head: RequestHead, options: { end?: boolean } = {}): Stream {
    if (this.closedFlag) throw protocolError('ERR_GOING_AWAY', 'connection is closed');
    const peer = this.peer ?? PEER_DEFAULT_HELLO;
    return this.streams.openLocal(kind, head, options.end === true, peer.maxConcurrentStreams, peer.initialWindow);
  }

  /** A round trip with PING/PONG, ms; rejects with ERR_TIMEOUT. */
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
        // Only the peer's frames grow the queue without bound (PING → PONG, violation → RESET) while it does not read.
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
    this.sendNow(FrameType.GOAWAY, encodeReset(code, reason));
    this.destroy(code === 'ERR_GOING_AWAY' ? undefined : protocolError(code, reason || 'closed'));
    this.transport.close();
  }

  /**
   * Ends without a frame and leaves the transport alone: the peer was told by other means and may be
   * closing it now (a send racing a data channel's teardown crashes @roamhq/wrtc). Streams fail ERR_GOING_AWAY.
   */
  abandon(): void {
    this.destroy();
  }

  /** Every stream fails with ERR_CONNECTION_LOST. */
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
    this.o.schedule(() => {
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
    const granted = Math.max(0, Math.min(bytes, this.o.windowGrowthBudget - this.windowGrowthReserved));
    this.windowGrowthReserved += granted;
    return granted;
  }

  releaseWindowGrowth(bytes: number): void {
    this.windowGrowthReserved = Math.max(0, this.windowGrowthReserved - bytes);
  }

  streamFinished(stream: Stream): void {
    if (this.streams.forget(stream)) this.packer.removeStream(stream);
  }

  // ---- internals ------------------------------------------------------------

  private pump(): void {
    if (this.silent) return;
    while (!this.closedFlag && this.transport.bufferedAmount() < this.o.highWaterBytes) {
      const message = this.packer.buildMessage(this.peer !== undefined);
      // A listener run while building ('drain', 'close') may have closed the connection.
      if (!message || this.closedFlag) return;
      this.bytesSent += message.length;
      try {
        this.transport.send(message);
        // Once handed over: 'drain', and a stream whose END just left may finish.
        this.packer.sent();
      } catch (err) {
        this.packer.sendFailed();
        // Thrown here it would be uncaught (the pump runs on its own); a transport that refuses to send is gone.
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
      this.silent = false;
      // Streams opened before it assumed the default window (as SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 §6.9.2).
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
        const { code, reason } = decodeReset(frame.payload);
        this.emit('goaway', code, reason);
        this.destroy(protocolError(code, `peer said GOAWAY: ${reason}`));
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
    const stream = this.streams.acceptPeer(frame, this.peer!.initialWindow);
    if (!stream) return;
    this.emit('stream', stream);
    if (frame.flags & Flag.END_STREAM) stream.receiveEnd();
  }

  private onStreamFrame(frame: Frame): void {
    const stream = this.streams.lookup(frame);
    if (stream) dispatchStreamFrame(stream, frame, this);
  }

  private fail(error: ProtocolError): void {
    if (this.closedFlag) return;
    this.emit('error', error);
    this.sendNow(FrameType.GOAWAY, encodeReset(error.code, error.message));
    this.destroy(error);
    this.transport.close();
  }

  private sendNow(type: FrameType, payload: Uint8Array): void {
    const frame = encodeFrame(type, 0, 0, payload);
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
