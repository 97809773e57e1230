/**
 * A `100 Continue` nobody asked for (the agent never forwards `Expect`) is
 * skipped before the HTTP client reads it: undici takes any 100 for a broken
 * response (a 502), where browsers ignore it (RFC 9110 §15.2). Only at the
 * start of a response (pipelining 1); a head split across reads is held until
 * whole, up to MAX_CONTINUE_HEAD_BYTES.
 */

/** The longest `100` head held while its end has not arrived: far more than a status line and a few fields. */
export const MAX_CONTINUE_HEAD_BYTES = 16 * 1024;

/** `HTTP/1.1 100` and the byte after it: enough to tell a 100 head from any other. */
const STATUS_PREFIX_BYTES = 'HTTP/1.1 100 '.length;
const CONTINUE_STATUS = /^HTTP\/1\.[01] 100[ \r]/;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Whether `bytes` (shorter than STATUS_PREFIX_BYTES) may still become a 100 status line. */
function mayBeContinue(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  return ['HTTP/1.1 100', 'HTTP/1.0 100'].some((status) => status.startsWith(text) || text.startsWith(status));
}

export function createContinueSkipper() {
  let atStart = false;
  let held: Buffer | undefined;
  return {
    /** The client wrote a request: the next bytes start its response. */
    requestWritten() {
      atStart = true;
    },
    /** What the client reads of `chunk` (null: nothing yet, the bytes so far may still be a 100 head). */
    read(chunk: Buffer): Buffer | null {
      if (!atStart) return chunk;
      let bytes = held ? Buffer.concat([held, chunk]) : chunk;
      held = undefined;
      for (;;) {
        if (bytes.length === 0) return null;
        if (bytes.length < STATUS_PREFIX_BYTES && mayBeContinue(bytes)) {
          held = bytes;
          return null;
        }
        if (!CONTINUE_STATUS.test(bytes.subarray(0, STATUS_PREFIX_BYTES).toString('latin1'))) break;
        const end = bytes.indexOf(HEAD_END);
        if (end < 0) {
          if (bytes.length > MAX_CONTINUE_HEAD_BYTES) break;
          held = bytes;
          return null;
        }
        bytes = bytes.subarray(end + HEAD_END.length);
      }
      atStart = false;
      return bytes;
    },
  };
}
