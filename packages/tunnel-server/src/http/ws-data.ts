/** What the server's WebSocket ends share: a `ws` message as a Buffer, and the close codes (RFC 6455 §7.4.1) they send. */
import type { RawData } from 'ws';

/** ws hands a Buffer, an ArrayBuffer or Buffer[] depending on binaryType; this server uses the default (Buffer). */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export const WS_CLOSE_POLICY_VIOLATION = 1008;
export const WS_CLOSE_TRY_AGAIN_LATER = 1013;
