/** One `ws` message as a Buffer, whatever form ws handed it in. */
import type { RawData } from 'ws';

/** ws hands a Buffer, an ArrayBuffer or Buffer[] depending on binaryType; this server uses the default (Buffer). */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
