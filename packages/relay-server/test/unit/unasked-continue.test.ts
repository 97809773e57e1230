/**
 * The skipper of unasked `100 Continue` heads (forward/unasked-continue.ts)
 * on the bytes a connection reads, however they are split: the client reads
 * the answer that follows, byte for byte, and never a 100.
 */
import { createContinueSkipper, MAX_CONTINUE_HEAD_BYTES } from '../../src/forward/unasked-continue';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const ANSWER = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello';

/** What the client reads when the response's bytes arrive cut at `cuts`, after one request. */
function readAll(response: string, cuts: number[]): string {
  const skipper = createContinueSkipper();
  skipper.requestWritten();
  const bytes = Buffer.from(response, 'latin1');
  const edges = [0, ...cuts, bytes.length];
  let read = '';
  for (let i = 1; i < edges.length; i++) read += skipper.read(bytes.subarray(edges[i - 1], edges[i]))?.toString('latin1') ?? '';
  return read;
}

describe('unasked 100 Continue heads', () => {
  it('skips one or more before the answer, whole or split at any byte', () => {
    for (const response of [CONTINUE + ANSWER, CONTINUE + CONTINUE + ANSWER, 'HTTP/1.1 100\r\nx-a: 1\r\n\r\n' + ANSWER]) {
      expect(readAll(response, [])).toBe(ANSWER);
      for (let cut = 1; cut < response.length; cut++) expect(readAll(response, [cut])).toBe(ANSWER);
      for (let cut = 1; cut + 3 < response.length; cut += 3) expect(readAll(response, [cut, cut + 1, cut + 3])).toBe(ANSWER);
    }
  });

  it('leaves every other response as it is, other 1xx heads too', () => {
    for (const response of [
      ANSWER,
      'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' + ANSWER,
      'HTTP/1.1 1000 odd\r\n\r\n',
      'HTTP/1.0 204 No Content\r\n\r\n',
    ]) {
      expect(readAll(response, [])).toBe(response);
      for (let cut = 1; cut < response.length; cut++) expect(readAll(response, [cut])).toBe(response);
    }
  });

  it('skips nothing after the answer began, until the next request', () => {
    const skipper = createContinueSkipper();
    skipper.requestWritten();
    expect(skipper.read(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 25\r\n\r\n'))?.toString()).toBe('HTTP/1.1 200 OK\r\ncontent-length: 25\r\n\r\n');
    // A body that happens to read like a 100 head is body.
    expect(skipper.read(Buffer.from(CONTINUE))?.toString()).toBe(CONTINUE);
    skipper.requestWritten();
    expect(skipper.read(Buffer.from(CONTINUE + ANSWER))?.toString()).toBe(ANSWER);
  });

  it('skips nothing before the first request', () => {
    expect(createContinueSkipper().read(Buffer.from(CONTINUE))?.toString()).toBe(CONTINUE);
  });

  it('holds no more than MAX_CONTINUE_HEAD_BYTES of a 100 head whose end has not come: then hands it on as it is', () => {
    const long = `HTTP/1.1 100 Continue\r\nx-pad: ${'a'.repeat(MAX_CONTINUE_HEAD_BYTES)}\r\n\r\n`;
    expect(readAll(long + ANSWER, [100, MAX_CONTINUE_HEAD_BYTES + 10])).toBe(long + ANSWER);
  });
});
