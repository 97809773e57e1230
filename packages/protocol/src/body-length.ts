/**
 * A response's declared Content-Length, enforced on the body that follows.
 * The wire carries the body as a stream ended by END_STREAM, independent of
 * any Content-Length in the head; whoever turns the stream back into an
 * HTTP/1.1 message (the tunnel server's relay, the Service Worker, the Node
 * viewer) must keep the two consistent, or a hostile agent's extra bytes
 * become the answer to the viewer's next request on a keep-alive connection
 * (response splitting). Isomorphic: no node:*, no DOM.
 */
import type { HeaderList } from './payload';

/** Largest Content-Length accepted: the largest integer a JS number holds exactly. */
const MAX_CONTENT_LENGTH = Number.MAX_SAFE_INTEGER;

/**
 * The body length `headers` declare: a number, `undefined` when there is no
 * Content-Length, `null` when it is unusable — not digits, too large, or
 * several different values (RFC 9110 §8.6 allows a list of identical values,
 * "42, 42", which counts as one).
 */
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

/** What to do with one body chunk under a declared length. */
interface BodyChunkVerdict {
  /** The part of the chunk within the declared length (the whole chunk when none was declared). */
  accepted: Uint8Array;
  /** The chunk went past the declared length: deliver `accepted`, then end the message and close the connection. */
  excess: boolean;
}

/** Counts body bytes against a declared length (undefined: no limit). */
export class BodyLengthGuard {
  private received = 0;

  constructor(readonly declared: number | undefined) {}

  /** Bytes taken so far (never more than the declared length). */
  get bytes(): number {
    return this.received;
  }

  /** Cuts a chunk to what the declared length still allows. */
  take(chunk: Uint8Array): BodyChunkVerdict {
    if (this.declared === undefined) {
      this.received += chunk.length;
      return { accepted: chunk, excess: false };
    }
    const room = this.declared - this.received;
    if (chunk.length <= room) {
      this.received += chunk.length;
      return { accepted: chunk, excess: false };
    }
    this.received = this.declared;
    return { accepted: chunk.subarray(0, room), excess: true };
  }

  /** At the body's end: true when fewer bytes came than were declared (the message must not look complete). */
  get short(): boolean {
    return this.declared !== undefined && this.received < this.declared;
  }
}
