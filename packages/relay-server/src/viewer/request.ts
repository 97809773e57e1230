/**
 * One HTTP exchange over a protocol Connection (P2P or any other transport):
 * a small client used by `wingman fetch`, tests and benchmarks.
 */
import { ProtocolError, type Connection, type HeaderList, type ResponseHead, type Stream } from '@wingman/protocol';

export interface ProtocolRequest {
  method?: string;
  /** Origin-form target: "/path?query". */
  target: string;
  headers?: HeaderList;
  /** Whole body, or chunks written with backpressure. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

export interface ProtocolResponse {
  status: number;
  headers: HeaderList;
  header(name: string): string | undefined;
  stream: Stream;
  /** Body chunks as they arrive (the stream's flow control applies). */
  chunks(): AsyncIterable<Uint8Array>;
  /** The whole body. */
  bytes(): Promise<Buffer>;
}

/** Sends a request; resolves with the response head (the body streams after). */
export function requestOver(conn: Connection, req: ProtocolRequest, timeoutMs = 30_000): Promise<ProtocolResponse> {
  const body = req.body;
  const stream = conn.open('http', { method: req.method ?? 'GET', target: req.target, headers: req.headers ?? [] }, { end: body === undefined });
  req.signal?.addEventListener('abort', () => stream.reset('ERR_CANCEL', 'aborted'), { once: true });
  if (body instanceof Uint8Array) {
    writeAll(stream, body);
  } else if (body) {
    void pumpIterable(stream, body);
  }
  return new Promise<ProtocolResponse>((resolve, reject) => {
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
      resolve(makeResponse(stream, head));
    });
  });
}

function writeAll(stream: Stream, body: Uint8Array): void {
  let offset = 0;
  const step = 64 * 1024;
  const pump = () => {
    while (offset < body.length) {
      const ok = stream.write(body.subarray(offset, offset + step));
      offset += step;
      if (!ok) return void stream.once('drain', pump);
    }
    stream.end();
  };
  pump();
}

async function pumpIterable(stream: Stream, body: AsyncIterable<Uint8Array>): Promise<void> {
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

function makeResponse(stream: Stream, head: ResponseHead): ProtocolResponse {
  // Buffer chunks from now on so nothing is lost between head and consumer.
  const queue: Uint8Array[] = [];
  let done = false;
  let error: Error | undefined;
  let wake: (() => void) | undefined;
  stream.on('data', (c) => {
    queue.push(c);
    if (queue.length > 16) stream.pause();
    wake?.();
  });
  stream.on('end', () => {
    done = true;
    wake?.();
  });
  stream.on('reset', (e) => {
    error = e;
    wake?.();
  });
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
    header: (name) => head.headers.find(([n]) => n === name.toLowerCase())?.[1],
    stream,
    chunks,
    async bytes() {
      const parts: Uint8Array[] = [];
      for await (const c of chunks()) parts.push(c);
      return Buffer.concat(parts);
    },
  };
}
