/** The viewer's (or tunnel server's) side of a stream: requests opened on the client Connection. */
import { createHash } from 'node:crypto';
import type { Connection, HeaderList, ResponseHead, Stream } from '@wingman/protocol';

export interface Reply {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

export function header(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

/** Resolves with the response head; rejects on reset. */
export function responseOf(stream: Stream): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    stream.on('response', resolve);
    stream.on('reset', reject);
  });
}

/** Collects a body, or hashes it when `hash` is set (big downloads). */
export function bodyOf(stream: Stream, hash = false): Promise<{ body: Buffer; sha256: string; length: number }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const h = createHash('sha256');
    let length = 0;
    stream.on('data', (c) => {
      length += c.length;
      if (hash) h.update(c);
      else parts.push(Buffer.from(c));
    });
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      resolve({ body, sha256: hash ? h.digest('hex') : createHash('sha256').update(body).digest('hex'), length });
    });
    stream.on('reset', reject);
  });
}

/** Writes chunks with the stream's backpressure, then ends. */
export async function writeBody(stream: Stream, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', r));
  }
  stream.end();
}

export interface SendOptions {
  method?: string;
  target: string;
  headers?: HeaderList;
  body?: Uint8Array | Iterable<Uint8Array>;
}

/** One HTTP exchange over the connection. The Host header defaults to a session host, as the tunnel server sends it. */
export async function send(conn: Connection, options: SendOptions): Promise<Reply> {
  const headers: HeaderList = options.headers ?? [['host', 'abc.localhost:8080']];
  const hasBody = options.body !== undefined;
  const stream = conn.open('http', { method: options.method ?? 'GET', target: options.target, headers }, { end: !hasBody });
  const head = responseOf(stream);
  const body = bodyOf(stream);
  body.catch(() => undefined); // a reset rejects `head` too, which is what the caller sees
  if (hasBody) {
    const b = options.body!;
    await writeBody(stream, b instanceof Uint8Array ? [b] : b);
  }
  const h = await head;
  return { status: h.status, headers: h.headers, body: (await body).body };
}
