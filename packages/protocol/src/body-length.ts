/**
 * A response's declared Content-Length, enforced on the body (ended by END_STREAM on the wire): whoever
 * turns a stream back into HTTP/1.1 must, or a hostile agent's extra bytes answer the next request.
 */
import type { HeaderList } from './payload';

const MAX_CONTENT_LENGTH = Number.MAX_SAFE_INTEGER;

/** `undefined` without Content-Length, `null` when unusable (not digits, too large, different values; RFC 9110 §8.6). */
export function declaredBodyLength(headers: HeaderList): number | undefined | null {
  let found: number | undefined;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    for (const part of value.split(',')) {
      const text = part.trim();
      if (!/^[0-9]{1,16}$/.test(text)) return null;
      const n = Number(text);
      if (n > MAX_CONTENT_LENGTH || (found !== undefined && found !== n)) return null;
      found = n;
    }
  }
  return found;
}

interface BodyChunkVerdict {
  accepted: Uint8Array;
  /** Past the declared length: deliver `accepted`, then end the message and close the connection. */
  excess: boolean;
}

/** `declared` undefined: no limit. */
export class BodyLengthGuard {
  private received = 0;

  constructor(readonly declared: number | undefined) {}

  get bytes(): number {
    return this.received;
  }

  take(chunk: Uint8Array): BodyChunkVerdict {
    const room = this.declared === undefined ? Infinity : this.declared - this.received;
    if (chunk.length <= room) {
      this.received += chunk.length;
      return { accepted: chunk, excess: false };
    }
    this.received = this.declared!;
    return { accepted: chunk.subarray(0, room), excess: true };
  }

  /** At the body's end: fewer bytes came than declared (the message must not look complete). */
  get short(): boolean {
    return this.declared !== undefined && this.received < this.declared;
  }
}
