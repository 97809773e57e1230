/**
 * The options and events of a Connection, and the validation of the options
 * (a value out of range throws a RangeError at construction).
 */
import {
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_STREAM_WINDOW_BYTES,
  DEFAULT_STREAM_WINDOW_BYTES,
  DEFAULT_WINDOW_GROWTH_BUDGET_BYTES,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_WINDOW_BYTES,
  MAX_WS_MESSAGE_BYTES,
  TRANSPORT_HIGH_WATER_BYTES,
} from './constants';
import type { ErrorCode, ProtocolError } from './errors';
import type { Hello } from './payload';
import type { Stream } from './stream';

/** The message transport under a connection. Adapters live with each runtime (ws, RTCDataChannel, MessagePort). */
export interface Transport {
  /** Sends one message holding one or more whole frames. */
  send(message: Uint8Array): void;
  /** Bytes accepted by send() but not yet handed to the network. */
  bufferedAmount(): number;
  /** Closes the transport; the owner then calls connection.transportClosed(). */
  close(): void;
  /**
   * False once the transport is closing (a data channel's readyState left
   * 'open' before its close event): a stream started now could not reach the
   * peer, so the connection is not `isReady`. Absent: open until closed.
   */
  isOpen?(): boolean;
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
  /** Connection-wide sum of auto-tuning growth beyond the initial windows, bytes. Default DEFAULT_WINDOW_GROWTH_BUDGET_BYTES. */
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
   * Runs the send pump once frames are queued. Default `queueMicrotask`: what
   * one task queues shares a message. A transport whose every send is costly
   * passes a later point (Node's `setImmediate`: after every I/O callback of
   * the event-loop turn), so frames queued by many callbacks of one turn
   * (responses arriving together) share messages too.
   */
  schedule?: (run: () => void) => void;
  /**
   * Sends nothing, not even the HELLO, until the peer's HELLO has arrived:
   * the peer speaks first. Costs no time, as this side's streams wait for the
   * peer's HELLO anyway. Default false.
   */
  speaksSecond?: boolean;
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

/** ConnectionOptions with every default applied and every range checked. */
interface ResolvedOptions {
  maxMessageBytes: number;
  highWaterBytes: number;
  localWindow: number;
  maxStreamWindow: number;
  windowGrowthBudget: number;
  allocate: (bytes: number) => Uint8Array;
  maxConcurrentStreams: number;
  maxWsMessageBytes: number;
  schedule: (run: () => void) => void;
  speaksSecond: boolean;
}

/** Applies the defaults; throws a RangeError for an initialWindow or maxWsMessageBytes out of range. */
export function resolveOptions(options: ConnectionOptions): ResolvedOptions {
  const localWindow = options.initialWindow ?? DEFAULT_STREAM_WINDOW_BYTES;
  if (localWindow < MAX_PAYLOAD_BYTES || localWindow > MAX_WINDOW_BYTES) throw new RangeError(`initialWindow ${localWindow} out of range`);
  const maxWsMessageBytes = options.maxWsMessageBytes ?? MAX_WS_MESSAGE_BYTES;
  if (!Number.isInteger(maxWsMessageBytes) || maxWsMessageBytes < 1 || maxWsMessageBytes > MAX_WS_MESSAGE_BYTES) {
    throw new RangeError(`maxWsMessageBytes ${maxWsMessageBytes} out of range (1 … ${MAX_WS_MESSAGE_BYTES})`);
  }
  return {
    maxMessageBytes: Math.max(MAX_FRAME_BYTES, options.maxMessageBytes ?? MAX_FRAME_BYTES),
    highWaterBytes: options.highWaterBytes ?? TRANSPORT_HIGH_WATER_BYTES,
    localWindow,
    maxStreamWindow: Math.min(MAX_WINDOW_BYTES, Math.max(localWindow, options.maxStreamWindow ?? DEFAULT_MAX_STREAM_WINDOW_BYTES)),
    windowGrowthBudget: Math.max(0, options.windowGrowthBudget ?? DEFAULT_WINDOW_GROWTH_BUDGET_BYTES),
    allocate: options.allocate ?? ((n) => new Uint8Array(n)),
    maxConcurrentStreams: Math.min(0xffff, options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS),
    maxWsMessageBytes,
    // Wrapped: a browser's queueMicrotask throws when called as a method of another object.
    schedule: options.schedule ?? ((run) => queueMicrotask(run)),
    speaksSecond: options.speaksSecond ?? false,
  };
}
