/**
 * Runs a Connection over a WebSocket: binary messages are frames, text
 * messages go to `onText` (the agent control channel). Typed structurally so
 * it serves Node's `ws` (send callback → drain) without importing it.
 */
import { concatBytes } from '../bytes';
import { Connection, type ConnectionOptions } from '../connection';
import { TRANSPORT_HIGH_WATER_BYTES } from '../constants';

/** The part of `ws`'s WebSocket this adapter uses. */
interface NodeWebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array | string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', fn: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
}

const OPEN = 1;

/**
 * Frames per WebSocket message: up to 32 KiB (two 16 KiB frames). Larger
 * messages cost fewer ws headers and 'message' events, but the receiving ws
 * must join every message that spans two socket reads into a new buffer (a
 * copy and an allocation per message); a message well under a read is often
 * handed over as a view of it. Measured on the relay (CPU per transfer,
 * scripts/bench, alternated builds): 32 KiB against 256 KiB cut the tunnel
 * server's and the agent's CPU by 18-30 % for a 100 MiB download and a
 * 20 MiB upload; 64 and 16 KiB landed in between.
 */
export const WEBSOCKET_MAX_MESSAGE_BYTES = 32 * 1024;

/**
 * Largest frame batch a receiver accepts in one WebSocket message (its ws
 * maxPayload): above what this side sends, so that a peer packing up to
 * 256 KiB per message (a build with another WEBSOCKET_MAX_MESSAGE_BYTES)
 * still connects.
 */
export const WEBSOCKET_ACCEPT_MESSAGE_BYTES = 256 * 1024;

/** Node's Buffer.allocUnsafe when there is one (no zero-fill of each message buffer); feature-detected, not imported. */
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafe(bytes: number): Uint8Array } }).Buffer;
const allocateFresh = (n: number): Uint8Array => (nodeBuffer ? nodeBuffer.allocUnsafe(n) : new Uint8Array(n));

/**
 * Message buffers kept for reuse per connection: as many as the pump can have
 * in flight (TRANSPORT_HIGH_WATER_BYTES / WEBSOCKET_MAX_MESSAGE_BYTES) plus
 * one. It saves an allocation per bulk message (V8 frees large ones only
 * after tens of MiB pile up).
 */
const MESSAGE_POOL_SIZE = TRANSPORT_HIGH_WATER_BYTES / WEBSOCKET_MAX_MESSAGE_BYTES + 1;

export function connectionOverWebSocket(
  ws: NodeWebSocketLike,
  options: Omit<ConnectionOptions, 'transport'> & { onText?: (text: string) => void },
): Connection {
  let conn: Connection;
  const maxMessageBytes = options.maxMessageBytes ?? WEBSOCKET_MAX_MESSAGE_BYTES;
  const pool: Uint8Array[] = [];
  // A buffer the connection allocated (its whole size, from offset 0) is free
  // again once ws has written the message: the kernel has the bytes.
  const recycle = (m: Uint8Array) => {
    if (m.byteOffset === 0 && m.buffer.byteLength === maxMessageBytes && pool.length < MESSAGE_POOL_SIZE) pool.push(new Uint8Array(m.buffer));
  };
  conn = new Connection({
    allocate: (n) => (n === maxMessageBytes && pool.pop()) || allocateFresh(n),
    ...options,
    maxMessageBytes,
    transport: {
      send: (m) => {
        if (ws.readyState !== OPEN) return;
        // ws's bufferedAmount counts bytes not yet written to the socket; the
        // send callback fires once a message is written: our drain signal.
        ws.send(m, (err) => {
          if (err) return;
          recycle(m);
          conn.drain();
        });
      },
      bufferedAmount: () => ws.bufferedAmount,
      close: () => ws.close(1000),
    },
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      conn.receive(toBytes(data));
    } else {
      options.onText?.(decoder.decode(toBytes(data)));
    }
  });
  ws.on('close', () => conn.transportClosed());
  return conn;
}

const decoder = new TextDecoder();

/** ws hands a Buffer (a Uint8Array), an ArrayBuffer or Buffer[] depending on binaryType. */
function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return concatBytes(data as Uint8Array[]);
  throw new TypeError('unexpected WebSocket message data');
}
