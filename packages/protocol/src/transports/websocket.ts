/**
 * Runs a Connection over a WebSocket: binary messages are frames, text
 * messages go to `onText` (the agent control channel). Typed structurally so
 * it serves Node's `ws` (send callback → drain) without importing it.
 */
import { Connection, type ConnectionOptions } from '../connection';

/** The part of `ws`'s WebSocket this adapter uses. */
export interface NodeWebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array | string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', fn: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
}

const OPEN = 1;

/**
 * Frames per WebSocket message. A WebSocket has no 16 KiB ceiling, so frames
 * are packed into messages of up to 64 KiB: fewer messages, same frames.
 */
export const WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024;

export function connectionOverWebSocket(
  ws: NodeWebSocketLike,
  options: Omit<ConnectionOptions, 'transport'> & { onText?: (text: string) => void },
): Connection {
  let conn: Connection;
  // ws's bufferedAmount counts bytes not yet written to the socket; the send
  // callback fires once a message is written, which is our drain signal.
  const onSent = (err?: Error) => {
    if (!err) conn.drain();
  };
  conn = new Connection({
    maxMessageBytes: WEBSOCKET_MAX_MESSAGE_BYTES,
    ...options,
    transport: {
      send: (m) => {
        if (ws.readyState === OPEN) ws.send(m, onSent);
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
  if (Array.isArray(data)) {
    const parts = data as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  throw new TypeError('unexpected WebSocket message data');
}
