/**
 * One multiplexed stream: an HTTP exchange or a WebSocket, its frames queued for the connection's pump.
 * States and flow control: docs/PROTOCOL.md §Streams, §Flow control.
 */
import { MAX_WINDOW_BYTES, MAX_WS_MESSAGE_BYTES, STREAM_SEND_BEYOND_WINDOW_BYTES, STREAM_SEND_HIGH_WATER_BYTES, WINDOW_UPDATE_DIVISOR } from './constants';
import { concatBytes } from './bytes';
import { Emitter } from './emitter';
import { ProtocolError, protocolError, type ErrorCode } from './errors';
import { EMPTY, Flag, FrameType, writeFrame } from './frame';
import { encodeCodeReason, encodeReset, encodeResponseHead, encodeWindowUpdate, type RequestHead, type ResponseHead } from './payload';

export type StreamKind = 'http' | 'ws';

interface StreamEvents {
  response: (head: ResponseHead) => void;
  /** The view is valid for as long as you keep it. */
  data: (chunk: Uint8Array) => void;
  end: () => void;
  message: (data: Uint8Array, text: boolean) => void;
  wsClose: (code: number, reason: string) => void;
  /** Peer RESET, protocol violation, or connection lost. Final. */
  reset: (error: ProtocolError) => void;
  /** Queued bytes fell below the high-water mark after write() returned false. */
  drain: () => void;
  /** While the writer waits for 'drain': the pump sent some of the queued bytes (the peer takes them, however slowly). */
  progress: () => void;
  /** Final: after end both ways, or any reset. */
  close: () => void;
}

/** What a stream needs from its connection. */
export interface StreamHost {
  /** The stream has frames queued: put it in the pump's rotation. */
  markReady(stream: Stream): void;
  sendControl(type: FrameType, streamId: number, payload: Uint8Array, flags?: number): void;
  streamFinished(stream: Stream): void;
  readonly localWindow: number;
  readonly maxStreamWindow: number;
  readonly maxWsMessageBytes: number;
  /** Takes up to `bytes` of the connection's growth budget; returns what it granted. */
  reserveWindowGrowth(bytes: number): number;
  releaseWindowGrowth(bytes: number): void;
}

interface QueuedFrame {
  type: FrameType;
  flags: number;
  payload: Uint8Array;
  /** Counts against the send window (DATA, WS_MESSAGE). */
  flow: boolean;
}

type InboxItem =
  | { kind: 'data'; chunk: Uint8Array }
  | { kind: 'message'; data: Uint8Array; text: boolean; credit: number }
  | { kind: 'end' }
  | { kind: 'wsClose'; code: number; reason: string };

const textEncoder = new TextEncoder();

export class Stream extends Emitter<StreamEvents> {
  /** Bytes this side may still send before the peer grants more. */
  private window: number;
  private readonly queue: QueuedFrame[] = [];
  private queuedBytes = 0;

  private recvAllowed: number;
  /** The receive window this side currently grants (grows by auto-tuning, never shrinks). */
  private windowTarget: number;
  /** The consumer paused once: the window no longer grows. */
  private windowSettled = false;
  private pendingCredit = 0;
  private paused = false;
  private readonly inbox: InboxItem[] = [];
  private needDrain = false;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private fragmentText = false;
  /** Credit for MORE fragments held back while whole messages wait in the inbox. */
  private deferredCredit = 0;

  /** This side queued its END_STREAM / WS_CLOSE. */
  localEnded = false;
  /** ... and it left through the pump. */
  private endSent = false;
  /** The REQUEST / WS_OPEN of a stream this side opened left through the pump. */
  private openSent = false;
  /** The peer sent END_STREAM / WS_CLOSE. */
  remoteEnded = false;
  /** A response head went out (peer-opened streams) or came in (streams this side opened). */
  responded = false;
  closed = false;
  private listenerErrorHandler: ((err: unknown) => void) | undefined;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    readonly kind: StreamKind,
    readonly head: RequestHead,
    /** This side opened the stream. */
    readonly local: boolean,
    peerWindow: number,
  ) {
    super();
    this.window = peerWindow;
    this.recvAllowed = host.localWindow;
    this.windowTarget = host.localWindow;
  }

  /** Hands the exceptions of this stream's listeners to `handler` (in a microtask) instead of rethrowing them uncaught. */
  onListenerError(handler: (err: unknown) => void): void {
    this.listenerErrorHandler = handler;
  }

  protected override listenerThrew(err: unknown): void {
    const handler = this.listenerErrorHandler;
    if (handler) queueMicrotask(() => handler(err));
    else super.listenerThrew(err);
  }

  // ---- sending ----------------------------------------------------------

  get sendWindow(): number {
    return this.window;
  }

  /** @internal Queues the opening frame (REQUEST / WS_OPEN) of a stream this side opened. */
  queueOpen(type: typeof FrameType.REQUEST | typeof FrameType.WS_OPEN, payload: Uint8Array, end: boolean): void {
    this.enqueue({ type, flags: end ? Flag.END_STREAM : 0, payload, flow: false });
    if (end) this.localEnded = true;
  }

  /** @internal The frame the pump would take next (read only), or undefined when the queue is empty. */
  get nextQueued(): Readonly<QueuedFrame> | undefined {
    return this.queue[0];
  }

  /**
   * @internal Writes the next queued frame into `out` at `offset`; returns the new offset. A flow-controlled
   * frame gives at most `max` bytes, within the send window: a split WS message is MORE but for its last
   * piece, which END_STREAM rides.
   */
  writeNextFrame(out: Uint8Array, offset: number, max: number): number {
    const item = this.queue[0]!;
    if (!item.flow) {
      this.queue.shift();
      this.queuedBytes -= item.payload.length;
      if (item.type === FrameType.REQUEST || item.type === FrameType.WS_OPEN) this.openSent = true;
      if (item.flags & Flag.END_STREAM || item.type === FrameType.WS_CLOSE) this.endSent = true;
      return writeFrame(out, offset, item.type, item.flags, this.id, item.payload);
    }
    const n = Math.max(0, Math.min(max, item.payload.length, this.window));
    let flags = item.flags;
    let payload = item.payload;
    if (n < item.payload.length) {
      payload = item.payload.subarray(0, n);
      item.payload = item.payload.subarray(n);
      if (item.type === FrameType.WS_MESSAGE) flags |= Flag.MORE;
      flags &= ~Flag.END_STREAM;
    } else {
      this.queue.shift();
    }
    this.queuedBytes -= n;
    this.window -= n;
    return writeFrame(out, offset, item.type, flags, this.id, payload);
  }

  /** @internal The peer's WINDOW_UPDATE. False (and no change) when the window would pass MAX_WINDOW_BYTES. */
  grantWindow(increment: number): boolean {
    if (this.window + increment > MAX_WINDOW_BYTES) return false;
    this.window += increment;
    if (this.queue.length > 0) this.host.markReady(this);
    return true;
  }

  /** @internal The peer's HELLO changed the initial window after this stream was opened (RFC 9113 §6.9.2). */
  shiftSendWindow(delta: number): void {
    this.window += delta;
  }

  /** Peer-opened streams only. */
  respond(head: ResponseHead, options: { end?: boolean } = {}): void {
    if (this.local) throw new Error('respond() on a stream this side opened');
    if (this.responded) throw new Error('response head already sent');
    if (this.closed) return;
    // Encode first: a head the wire cannot carry throws and leaves the stream free to answer otherwise (a 502).
    const payload = encodeResponseHead(head);
    this.responded = true;
    const flags = options.end && this.kind === 'http' ? Flag.END_STREAM : 0;
    this.enqueue({ type: FrameType.RESPONSE, flags, payload, flow: false });
    if (flags) this.localEnded = true;
  }

  /** Queues a body chunk. Returns false when the caller should wait for 'drain'. */
  write(chunk: Uint8Array): boolean {
    if (this.kind !== 'http') throw new Error('write() on a WebSocket stream; use sendMessage()');
    if (this.localEnded) throw new Error('write() after end()');
    if (this.closed) return false;
    if (chunk.length > 0) this.enqueue({ type: FrameType.DATA, flags: 0, payload: chunk, flow: true });
    return this.checkHighWater();
  }

  end(): void {
    if (this.kind !== 'http') throw new Error('end() on a WebSocket stream; use closeWs()');
    if (this.localEnded || this.closed) return;
    this.localEnded = true;
    this.enqueue({ type: FrameType.DATA, flags: Flag.END_STREAM, payload: EMPTY, flow: false });
  }

  /** Queues one WebSocket message (fragmented by the pump). Returns false when the caller should wait for 'drain'. */
  sendMessage(data: Uint8Array | string): boolean {
    if (this.kind !== 'ws') throw new Error('sendMessage() on an HTTP stream');
    if (this.localEnded || this.closed) return false;
    const text = typeof data === 'string';
    const payload = text ? textEncoder.encode(data) : data;
    if (payload.length > MAX_WS_MESSAGE_BYTES) throw new RangeError(`message of ${payload.length} bytes > ${MAX_WS_MESSAGE_BYTES}`);
    this.enqueue({ type: FrameType.WS_MESSAGE, flags: text ? Flag.TEXT : 0, payload, flow: true });
    return this.checkHighWater();
  }

  closeWs(code = 1000, reason = ''): void {
    if (this.kind !== 'ws') throw new Error('closeWs() on an HTTP stream');
    if (this.localEnded || this.closed) return;
    this.localEnded = true;
    this.enqueue({ type: FrameType.WS_CLOSE, flags: 0, payload: encodeCodeReason(code, reason), flow: false });
  }

  /** Tells the peer (RESET), drops queued frames. Emits 'close' only. */
  reset(code: ErrorCode = 'ERR_CANCEL', reason = ''): void {
    if (this.closed) return;
    // Not if its REQUEST / WS_OPEN never left: a RESET of an idle stream is a connection error there.
    if (!this.local || this.openSent) this.host.sendControl(FrameType.RESET, this.id, encodeReset(code, reason));
    this.finish();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  private enqueue(f: QueuedFrame): void {
    this.queue.push(f);
    this.queuedBytes += f.payload.length;
    this.host.markReady(this);
  }

  /** Backpressure: the queue reached the high-water mark, or holds more than the send window lets out plus one read. */
  private checkHighWater(): boolean {
    if (this.queuedBytes >= STREAM_SEND_HIGH_WATER_BYTES || this.queuedBytes > Math.max(0, this.window) + STREAM_SEND_BEYOND_WINDOW_BYTES) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  afterSend(): void {
    if (this.needDrain && this.queuedBytes < STREAM_SEND_HIGH_WATER_BYTES / 2) {
      this.needDrain = false;
      this.emit('drain');
    } else if (this.needDrain) this.emit('progress');
    if (this.endSent) this.maybeFinish();
  }

  // ---- receiving --------------------------------------------------------

  /** Body items received before the first listener are delivered to it. */
  override on<K extends keyof StreamEvents>(event: K, fn: StreamEvents[K]): () => void {
    const off = super.on(event, fn);
    if (this.inbox.length > 0 && (event === 'data' || event === 'message' || event === 'end' || event === 'wsClose')) {
      queueMicrotask(() => this.flushInbox());
    }
    return off;
  }

  /**
   * Stops delivery (and window credit) until resume(). `waiting`: the consumer waits for something else
   * before it reads at all, which says nothing of its speed, so auto-tuning goes on after resume().
   */
  pause(options: { waiting?: boolean } = {}): void {
    this.paused = true;
    if (!options.waiting) this.windowSettled = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flushInbox();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** What the peer can make this stream hold while its consumer does not read: undelivered bytes plus open credit. */
  get receiveExposure(): number {
    if (this.closed) return 0;
    let undelivered = 0;
    for (const item of this.inbox) if (item.kind === 'data') undelivered += item.chunk.length;
    return undelivered + (this.remoteEnded ? 0 : Math.max(0, this.recvAllowed));
  }

  /** @internal Accounts flow-controlled bytes; false when the peer overran the window. */
  takeWindow(n: number): boolean {
    this.recvAllowed -= n;
    return this.recvAllowed >= 0;
  }

  /** @internal */
  receiveData(chunk: Uint8Array): void {
    // A view into the transport's message: copied when it waits, so a stalled stream pins only its own bytes
    // (Uint8Array's slice() keeps the type and copies; in Node a Buffer's own slice() is a view).
    this.push({ kind: 'data', chunk: this.paused ? Uint8Array.prototype.slice.call(chunk) : chunk });
  }

  /** @internal Reassembles fragments; returns an error code when the message is too large. */
  receiveFragment(payload: Uint8Array, text: boolean, more: boolean): ErrorCode | undefined {
    if (this.fragments.length > 0 && text !== this.fragmentText) return 'ERR_PROTOCOL';
    this.fragmentText = text;
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > this.host.maxWsMessageBytes) return 'ERR_MESSAGE_TOO_LARGE';
    if (more) {
      // Credit returns at once (a message larger than the window must not deadlock), unless whole
      // messages wait undelivered: a slow reader would buffer one message per final fragment.
      this.fragments.push(payload);
      if (this.inbox.length === 0) this.credit(payload.length);
      else this.deferredCredit += payload.length;
      return undefined;
    }
    let data = payload;
    if (this.fragments.length > 0) {
      this.fragments.push(payload);
      data = concatBytes(this.fragments, this.fragmentBytes);
    }
    this.fragments = [];
    this.fragmentBytes = 0;
    this.push({ kind: 'message', data, text, credit: payload.length });
    return undefined;
  }

  /** @internal */
  receiveEnd(): void {
    this.remoteEnded = true;
    this.push({ kind: 'end' });
  }

  /** @internal */
  receiveWsClose(code: number, reason: string): void {
    this.remoteEnded = true;
    this.push({ kind: 'wsClose', code, reason });
  }

  /** @internal */
  receiveResponse(head: ResponseHead): void {
    this.responded = true;
    this.emit('response', head);
  }

  /** @internal Peer RESET, violation, connection gone. */
  fail(error: ProtocolError): void {
    if (this.closed) return;
    this.finish(error);
  }

  /** @internal A protocol violation on this stream: reset it towards the peer and fail it locally. */
  violate(code: ErrorCode, message: string): void {
    if (this.closed) return;
    this.host.sendControl(FrameType.RESET, this.id, encodeReset(code, message));
    this.finish(protocolError(code, message));
  }

  private push(item: InboxItem): void {
    this.inbox.push(item);
    if (!this.paused) this.flushInbox();
  }

  private flushInbox(): void {
    while (!this.paused && this.inbox.length > 0 && !this.closed) {
      // Like a Node stream in paused mode: items wait until someone listens.
      if (this.listenerCount(this.inbox[0]!.kind) === 0) break;
      const item = this.inbox.shift()!;
      switch (item.kind) {
        case 'data':
          this.credit(item.chunk.length);
          this.emit('data', item.chunk);
          break;
        case 'message':
          this.credit(item.credit);
          this.emit('message', item.data, item.text);
          break;
        case 'end':
          this.emit('end');
          break;
        case 'wsClose':
          this.emit('wsClose', item.code, item.reason);
          break;
      }
    }
    if (this.inbox.length === 0 && this.deferredCredit > 0 && !this.closed) {
      const n = this.deferredCredit;
      this.deferredCredit = 0;
      this.credit(n);
    }
    this.maybeFinish();
  }

  private credit(n: number): void {
    if (n === 0 || this.remoteEnded) return;
    this.pendingCredit += n;
    if (this.pendingCredit < this.windowTarget / WINDOW_UPDATE_DIVISOR) return;
    let inc = this.pendingCredit;
    this.pendingCredit = 0;
    // Auto-tuning: a consumer that keeps up (never paused, nothing undelivered) is limited by window / RTT,
    // so its window doubles within the connection's budget; one that paused would only buffer more.
    if (!this.windowSettled && this.inbox.length === 0 && this.windowTarget < this.host.maxStreamWindow) {
      const grow = this.host.reserveWindowGrowth(Math.min(this.windowTarget, this.host.maxStreamWindow - this.windowTarget));
      this.windowTarget += grow;
      inc += grow;
    }
    this.recvAllowed += inc;
    this.host.sendControl(FrameType.WINDOW_UPDATE, this.id, encodeWindowUpdate(inc));
  }

  private maybeFinish(): void {
    if (this.closed || !this.endSent || !this.remoteEnded) return;
    // Over on the wire: the connection frees the slot now (a body nobody reads must not leak it); items
    // still waiting go to late listeners, and the stream closes when empty.
    if (!this.detached) {
      this.detached = true;
      this.host.streamFinished(this);
    }
    if (this.inbox.length === 0) this.finish();
  }

  /** The connection has forgotten this stream (both ends sent); only local delivery remains. */
  private detached = false;

  private finish(error?: ProtocolError): void {
    this.closed = true;
    if (this.windowTarget > this.host.localWindow) {
      this.host.releaseWindowGrowth(this.windowTarget - this.host.localWindow);
      this.windowTarget = this.host.localWindow;
    }
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.inbox.length = 0;
    this.fragments = [];
    this.host.streamFinished(this);
    if (error) this.emit('reset', error);
    this.emit('close');
  }
}
