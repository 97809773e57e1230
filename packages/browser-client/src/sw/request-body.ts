/**
 * An intercepted request's body made ready to travel: many servers read a body without Content-Length as
 * empty, so one that ends within BUFFERED_BODY_MAX_BYTES without a BODY_IDLE_MS pause goes whole with its
 * length; others stream. What was read is kept, so the relay can still send what a declined attempt never took.
 */
import { concatBytes } from '@wingman/protocol';
import { PORT_CHUNK_BYTES } from '../shared/constants';

/** Bodies up to this size are held whole to learn their length, bytes (an upload form's files; beyond, it streams). */
const BUFFERED_BODY_MAX_BYTES = 64 * 1024 * 1024;
/**
 * A wait this long for a body's next chunk means the page produces it as it goes, ms. A Blob or form body reads far
 * faster on an idle machine, but on a loaded one (a phone, a busy 2-core laptop) its reads stall for hundreds of ms: taken
 * for a stream, it would lose its Content-Length and, over P2P, its second sending over the relay (exchange-id.ts). A
 * streaming upload, which pages rarely make, starts this much later instead.
 */
const BODY_IDLE_MS = 1_000;
/** The idle wait's timer ran this much later than asked: the Service Worker's thread was starved, not the body idle; it waits again. */
const STARVED_LATE_MS = 100;
/** Waits begun again after a starved one, per chunk, at most. */
const MAX_STARVED_WAITS = 4;

export type PreparedBody =
  /** No body (GET, HEAD, or a request without one). */
  | { kind: 'none' }
  /** The whole body: it goes with Content-Length. */
  | { kind: 'bytes'; bytes: Uint8Array<ArrayBuffer> }
  /** A body still being produced, or too large to hold: the bytes read so far, then the rest. */
  | { kind: 'stream'; stream: ReadableStream<Uint8Array> };

const NO_BODY = new Set(['GET', 'HEAD']);

/** The chunks joined (a new ArrayBuffer-backed array: the relay sends its buffer). */
const concat = (chunks: Uint8Array[], total: number) => concatBytes(chunks, total) as Uint8Array<ArrayBuffer>;

export async function prepareBody(request: Request, limits = { maxBytes: BUFFERED_BODY_MAX_BYTES, idleMs: BODY_IDLE_MS }): Promise<PreparedBody> {
  if (NO_BODY.has(request.method.toUpperCase())) return { kind: 'none' };
  // Request.body exists in Chromium and Safari; Firefox lacks it (and has no streaming uploads): read it whole.
  if (!('body' in Request.prototype)) return { kind: 'bytes', bytes: new Uint8Array(await request.arrayBuffer()) };
  const source = request.body;
  if (!source) return { kind: 'none' };
  const reader = source.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const idle = idleWait(limits.idleMs);
    const next = reader.read();
    const r = await Promise.race([next, idle.elapsed]);
    idle.cancel();
    if (r === 'idle') return { kind: 'stream', stream: rest(chunks, reader, next) };
    if (r.done) return { kind: 'bytes', bytes: concat(chunks, total) };
    chunks.push(r.value);
    total += r.value.byteLength;
    if (total > limits.maxBytes) return { kind: 'stream', stream: rest(chunks, reader) };
  }
}

/** Resolves 'idle' once `ms` passed with the thread running: a timer that fired STARVED_LATE_MS late or more starts the wait again. */
function idleWait(ms: number): { elapsed: Promise<'idle'>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<'idle'>((resolve) => {
    let waits = 0;
    const arm = () => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        if (performance.now() - due >= STARVED_LATE_MS && ++waits <= MAX_STARVED_WAITS) arm();
        else resolve('idle');
      }, ms);
    };
    arm();
  });
  return { elapsed, cancel: () => clearTimeout(timer) };
}

/** The chunks read so far, then (`pending` first, when a read is under way) what the reader still yields. */
function rest(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pending?: Promise<ReadableStreamReadResult<Uint8Array>>,
): ReadableStream<Uint8Array> {
  let waiting = pending;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const head = chunks.shift();
      if (head) return controller.enqueue(head);
      const r = await (waiting ?? reader.read());
      waiting = undefined;
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * The body as a stream, or null. `keep`: the bytes must stay whole for a second sending over the
 * relay (exchange-id.ts), and the port transfers what it sends: the stream yields copies then.
 */
export function bodyStream(body: PreparedBody, keep = false): ReadableStream<Uint8Array> | null {
  if (body.kind === 'none') return null;
  if (body.kind === 'stream') return body.stream;
  const bytes = body.bytes;
  if (bytes.byteLength === 0) return null;
  return keep ? copiesOf(bytes) : streamOf(bytes);
}

/** A stream of `bytes`, in one chunk. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** `bytes` as a stream of copies of PORT_CHUNK_BYTES at most, made as they are read. */
function copiesOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const end = Math.min(bytes.byteLength, at + PORT_CHUNK_BYTES);
      controller.enqueue(bytes.slice(at, end));
      at = end;
      if (at >= bytes.byteLength) controller.close();
    },
  });
}

/** The Content-Length the browser would have sent: the body's length; 0 for a POST or PUT without one (Fetch); none for a stream. */
export function contentLengthOf(method: string, body: PreparedBody): number | undefined {
  if (body.kind === 'bytes') return body.bytes.byteLength;
  if (body.kind === 'none' && (method === 'POST' || method === 'PUT')) return 0;
  return undefined;
}
