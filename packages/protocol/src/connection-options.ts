/** The options and events of a Connection; an option out of range throws a RangeError at construction. */
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

/** The message transport under a connection (ws, RTCDataChannel, MessagePort). */
export interface Transport {
  /** One message of one or more whole frames. */
  send(message: Uint8Array): void;
  bufferedAmount(): number;
  /** The owner then calls connection.transportClosed(). */
  close(): void;
  /** False once closing (a data channel's readyState left 'open' before its close event), so not `isReady`. */
  isOpen?(): boolean;
}

export interface ConnectionOptions {
  /** 'client' opens odd stream ids, 'server' even ones (as HTTP/2). Both sides may open streams. */
  role: 'client' | 'server';
  transport: Transport;
  /** Largest message handed to transport.send(), frames packed up to it. Default MAX_FRAME_BYTES (safe for every data channel). */
  maxMessageBytes?: number;
  /** The pump pauses while transport.bufferedAmount() is above this. */
  highWaterBytes?: number;
  /** Receive window granted to each stream. */
  initialWindow?: number;
  /** Auto-tuning ceiling of a stream's receive window (never below initialWindow, which turns auto-tuning off). */
  maxStreamWindow?: number;
  /** Connection-wide sum of auto-tuning growth beyond the initial windows, bytes. */
  windowGrowthBudget?: number;
  /** Buffers messages are built in (Node: `Buffer.allocUnsafe`); a message filling half of one is sent as a view, uncopied. */
  allocate?: (bytes: number) => Uint8Array;
  /** Streams the peer may have open towards us at once. */
  maxConcurrentStreams?: number;
  /**
   * Runs the send pump once frames are queued. Default `queueMicrotask`; a transport whose sends are costly passes
   * Node's `setImmediate`, so frames queued by many I/O callbacks of one turn share messages too.
   */
  schedule?: (run: () => void) => void;
  /** Sends nothing, not even the HELLO, until the peer's HELLO arrived (free: streams wait for it anyway). */
  speaksSecond?: boolean;
  /** Largest WebSocket message accepted (1 … MAX_WS_MESSAGE_BYTES): reassembly resets with ERR_MESSAGE_TOO_LARGE past it. */
  maxWsMessageBytes?: number;
}

export interface ConnectionEvents {
  ready: (hello: Hello) => void;
  /** The peer opened a stream. Attach listeners synchronously. */
  stream: (stream: Stream) => void;
  /** A connection-level protocol error (this side sends GOAWAY and closes). */
  error: (error: ProtocolError) => void;
  goaway: (code: ErrorCode, reason: string) => void;
  /** Final; every stream has been failed. */
  close: (error?: ProtocolError) => void;
}

/** ConnectionOptions with every default applied; throws a RangeError for an initialWindow or maxWsMessageBytes out of range. */
export function resolveOptions(options: ConnectionOptions) {
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
