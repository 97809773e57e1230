/**
 * Receive-window auto-tuning between two real Connections: a reader that
 * keeps up has its stream window grown to the ceiling, a paused reader does
 * not, growth never exceeds the connection's budget, and it is given back
 * when the stream finishes.
 */
import { decodeFrames, DEFAULT_MAX_STREAM_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_BYTES, FrameType, type Connection, type Stream } from '@wingman/protocol';
import { connectedPair, waitFor, type Pair, type PairOptions } from './pair';

const CHUNK_BYTES = 64 * 1024;

/** Per stream id: flow-controlled bytes the server sent, and window credit the client granted. */
interface Wire {
  sent: Map<number, number>;
  granted: Map<number, number>;
  tap: NonNullable<PairOptions['tap']>;
}

function wire(): Wire {
  const sent = new Map<number, number>();
  const granted = new Map<number, number>();
  const add = (m: Map<number, number>, id: number, n: number) => m.set(id, (m.get(id) ?? 0) + n);
  return {
    sent,
    granted,
    tap: (from, message) => {
      for (const f of decodeFrames(message)) {
        if (from === 'server' && f.type === FrameType.DATA) add(sent, f.streamId, f.payload.length);
        if (from === 'client' && f.type === FrameType.WINDOW_UPDATE)
          add(granted, f.streamId, new DataView(f.payload.buffer, f.payload.byteOffset, 4).getUint32(0));
      }
    },
  };
}

/** Serves `size` bytes on every stream, honouring backpressure. */
function serveBytes(server: Connection, size: number): void {
  server.on('stream', (s) => {
    s.respond({ status: 200, headers: [] });
    let off = 0;
    const pump = () => {
      while (off < size) {
        const n = Math.min(CHUNK_BYTES, size - off);
        off += n;
        if (!s.write(new Uint8Array(n))) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
}

function download(client: Connection, target: string): { stream: Stream; done: Promise<number> } {
  const stream = client.open('http', { method: 'GET', target, headers: [] }, { end: true });
  const done = new Promise<number>((resolve, reject) => {
    let n = 0;
    stream.on('data', (c) => (n += c.length));
    stream.on('end', () => resolve(n));
    stream.on('reset', reject);
  });
  return { stream, done };
}

/** Waits until nothing new of stream `id` crossed the wire for 50 event-loop turns (a credit round trip takes 2) and `also` holds. */
function waitForStall(w: Wire, id: number, what: string, also: () => boolean = () => true): Promise<void> {
  let last = -1;
  let quiet = 0;
  return waitFor(() => {
    const now = w.sent.get(id) ?? 0;
    quiet = now === last ? quiet + 1 : 0;
    last = now;
    return now > 0 && quiet >= 50 && also();
  }, what);
}

/** The window a stream ended with: credit granted minus bytes consumed, plus the initial window. */
function finalWindow(w: Wire, id: number): number {
  return DEFAULT_STREAM_WINDOW_BYTES + (w.granted.get(id) ?? 0) - (w.sent.get(id) ?? 0);
}

let pair: Pair | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

describe('receive-window auto-tuning', () => {
  it('grows the window of a reader that keeps up to the ceiling, never past it', async () => {
    const w = wire();
    pair = connectedPair({ tap: w.tap });
    serveBytes(pair.server, 32 * 1024 * 1024);
    const d = download(pair.client, '/big');
    expect(await d.done).toBe(32 * 1024 * 1024);
    // Credit stops with the peer's END; what was granted beyond consumption is the grown window.
    const grown = finalWindow(w, d.stream.id);
    expect(grown).toBeGreaterThan(DEFAULT_STREAM_WINDOW_BYTES);
    expect(grown).toBeLessThanOrEqual(DEFAULT_MAX_STREAM_WINDOW_BYTES);
  });

  it('does not grow the window of a reader that stays paused', async () => {
    const w = wire();
    pair = connectedPair({ tap: w.tap });
    serveBytes(pair.server, 8 * 1024 * 1024);
    const d = download(pair.client, '/big');
    d.stream.pause();
    await waitForStall(w, d.stream.id, 'the paused download to stall');
    expect(w.sent.get(d.stream.id)).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    expect(w.granted.get(d.stream.id) ?? 0).toBe(0);
    d.stream.resume();
    expect(await d.done).toBe(8 * 1024 * 1024);
  });

  it('grows the window of a reader paused only while it waited for something else, once it reads', async () => {
    const w = wire();
    pair = connectedPair({ tap: w.tap });
    serveBytes(pair.server, 32 * 1024 * 1024);
    const d = download(pair.client, '/big');
    d.stream.pause({ waiting: true });
    await waitForStall(w, d.stream.id, 'the waiting download to stall');
    expect(w.sent.get(d.stream.id)).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    d.stream.resume();
    expect(await d.done).toBe(32 * 1024 * 1024);
    expect(finalWindow(w, d.stream.id)).toBeGreaterThan(DEFAULT_STREAM_WINDOW_BYTES);
  });

  it('keeps the sum of growth within the connection budget and returns it when streams finish', async () => {
    // Smaller than one doubling (256 KiB): the first stream to grow takes all of it.
    const budget = 128 * 1024;
    const w = wire();
    pair = connectedPair({ tap: w.tap, windowGrowthBudget: budget });
    serveBytes(pair.server, 16 * 1024 * 1024);
    const client = pair.client;
    /** Reads `first` bytes, pauses until the sender stalls, returns what the receiver then holds unread. */
    const readThenStall = async (target: string, first: number) => {
      const d = download(client, target);
      let consumed = 0;
      let pausedOnce = false;
      d.stream.on('data', (c) => {
        consumed += c.length;
        if (consumed >= first && !pausedOnce) {
          pausedOnce = true;
          d.stream.pause();
        }
      });
      await waitForStall(w, d.stream.id, `${target} to stall`, () => d.stream.isPaused);
      return { d, held: (w.sent.get(d.stream.id) ?? 0) - consumed };
    };
    const [a, b] = await Promise.all([readThenStall('/a', 4 * 1024 * 1024), readThenStall('/b', 4 * 1024 * 1024)]);
    // Each stream holds at most its initial window; together at most the budget more.
    expect(a.held + b.held).toBeGreaterThan(2 * DEFAULT_STREAM_WINDOW_BYTES);
    expect(a.held + b.held).toBeLessThanOrEqual(2 * DEFAULT_STREAM_WINDOW_BYTES + budget);
    a.d.stream.resume();
    b.d.stream.resume();
    await Promise.all([a.d.done, b.d.done]);
    // Both finished and gave their growth back: a new stream grows again.
    const c = await readThenStall('/c', 4 * 1024 * 1024);
    expect(c.held).toBeGreaterThan(DEFAULT_STREAM_WINDOW_BYTES);
    expect(c.held).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW_BYTES + budget);
    c.d.stream.resume();
    await c.d.done;
  });

  it('is off when the ceiling equals the initial window', async () => {
    const w = wire();
    pair = connectedPair({ tap: w.tap, maxStreamWindow: DEFAULT_STREAM_WINDOW_BYTES });
    serveBytes(pair.server, 8 * 1024 * 1024);
    const d = download(pair.client, '/big');
    await d.done;
    expect(finalWindow(w, d.stream.id)).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW_BYTES);
  });
});
