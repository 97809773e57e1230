/** One HTTP exchange over a protocol Connection: a small client for `wingman fetch`, tests and benchmarks. */
import { BodyLengthGuard, declaredBodyLength, ProtocolError, type Connection, type HeaderList, type ResponseHead, type Stream } from '@wingman/protocol';

/** RFC 9110 §6.4.1. */
const NO_BODY_STATUS = new Set([204, 304]);

interface ProtocolRequest {
  method?: string;
  /** Origin-form: "/path?query". */
  target: string;
  headers?: HeaderList;
  /** Whole body, or chunks written with backpressure. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

/** Resolves with the response head (the body streams after). */
export function requestOver(conn: Connection, req: ProtocolRequest, timeoutMs = 30_000): Promise<ReturnType<typeof makeResponse>> {
  const body = req.body;
  const stream = conn.open('http', { method: req.method ?? 'GET', target: req.target, headers: req.headers ?? [] }, { end: body === undefined });
  req.signal?.addEventListener('abort', () => stream.reset('ERR_CANCEL', 'aborted'), { once: true });
  // The stream cuts a large chunk into frames itself.
  if (body) void pumpBody(stream, body instanceof Uint8Array ? [body] : body);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.reset('ERR_TIMEOUT', 'no response head');
      reject(new ProtocolError('ERR_TIMEOUT', `no response within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.once('reset', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.once('response', (head: ResponseHead) => {
      clearTimeout(timer);
      resolve(makeResponse(stream, head, (req.method ?? 'GET') === 'HEAD'));
    });
  });
}

async function pumpBody(stream: Stream, body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const chunk of body) {
      if (stream.closed) return;
      if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', r));
    }
    stream.end();
  } catch {
    stream.reset('ERR_CANCEL', 'request body failed');
  }
}

function makeResponse(stream: Stream, head: ResponseHead, isHead: boolean) {
  // Buffer chunks from now on so nothing is lost between head and consumer.
  const queue: Uint8Array[] = [];
  let done = false;
  let error: Error | undefined;
  let wake: (() => void) | undefined;
  const declared = declaredBodyLength(head.headers);
  if (declared === null) {
    error = new ProtocolError('ERR_INVALID_HEADER', 'invalid or conflicting content-length');
    stream.reset('ERR_INVALID_HEADER', 'invalid or conflicting content-length');
  }
  const length = new BodyLengthGuard(isHead || NO_BODY_STATUS.has(head.status) || declared === null ? undefined : declared);
  stream.on('data', (c) => {
    if (done || error) return;
    const { accepted, excess } = length.take(c);
    if (accepted.length > 0) queue.push(accepted);
    if (excess) {
      // The declared body is complete; what follows is not part of it.
      done = true;
      stream.reset('ERR_PROTOCOL', 'body longer than content-length');
    } else if (queue.length > 16) stream.pause();
    wake?.();
  });
  stream.on('end', () => {
    if (length.short) error = new ProtocolError('ERR_PROTOCOL', `body ended after ${length.bytes} of ${length.declared} declared bytes`);
    else done = true;
    wake?.();
  });
  stream.on('reset', (e) => {
    if (done) return;
    error = e;
    wake?.();
  });
  /** The stream's flow control applies. Bytes past Content-Length are dropped (reset); a short body fails with ERR_PROTOCOL, as over HTTP/1.1. */
  async function* chunks(): AsyncIterable<Uint8Array> {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        if (queue.length < 4) stream.resume();
        continue;
      }
      if (error) throw error;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  }
  return {
    status: head.status,
    headers: head.headers,
    header: (name: string) => head.headers.find(([n]) => n === name.toLowerCase())?.[1],
    stream,
    chunks,
    async bytes() {
      const parts: Uint8Array[] = [];
      for await (const c of chunks()) parts.push(c);
      return Buffer.concat(parts);
    },
  };
}
