/**
 * Flow control and fairness between two real Connections: a receiver that
 * stops reading bounds what the sender puts on the wire and what it queues,
 * and small requests on the same connection still complete meanwhile.
 */
import { createHash } from 'node:crypto';
import { decodeFrames, DEFAULT_STREAM_WINDOW_BYTES, FrameType, MAX_PAYLOAD_BYTES, STREAM_SEND_HIGH_WATER_BYTES, type Stream } from '@wingman/protocol';
import { connectedPair, waitFor, type Pair } from './pair';

const CHUNK_BYTES = 64 * 1024;

function collect(stream: Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('reset', reject);
  });
}

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

/** Counts flow-controlled payload bytes (DATA, WS_MESSAGE) per stream id as they cross the wire from the server. */
function wireCounter(): { bytes: Map<number, number>; tap: NonNullable<Parameters<typeof connectedPair>[0]>['tap'] } {
  const bytes = new Map<number, number>();
  return {
    bytes,
    tap: (from, message) => {
      if (from !== 'server') return;
      for (const f of decodeFrames(message)) {
        if (f.type === FrameType.DATA || f.type === FrameType.WS_MESSAGE) bytes.set(f.streamId, (bytes.get(f.streamId) ?? 0) + f.payload.length);
      }
    },
  };
}

let pair: Pair | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

describe('flow control', () => {
  it('stops a bulk download at the window while the reader is paused, keeps the sender bounded, and lets a small request through', async () => {
    const wire = wireCounter();
    pair = connectedPair({ tap: wire.tap });
    const { client, server } = pair;
    const big = pattern(8 * 1024 * 1024);
    let bulk: Stream | undefined;
    let maxQueued = 0;
    let stalled = false;
    server.on('stream', (s) => {
      if (s.head.target === '/small') {
        s.respond({ status: 200, headers: [] });
        s.write(Buffer.from('small'));
        s.end();
        return;
      }
      bulk = s;
      s.respond({ status: 200, headers: [] });
      let off = 0;
      const pump = () => {
        stalled = false;
        while (off < big.length) {
          const ok = s.write(big.subarray(off, off + CHUNK_BYTES));
          off += CHUNK_BYTES;
          maxQueued = Math.max(maxQueued, s.pendingBytes);
          if (!ok) {
            stalled = true;
            return void s.once('drain', pump);
          }
        }
        s.end();
      };
      pump();
    });

    const download = client.open('http', { method: 'GET', target: '/big', headers: [] }, { end: true });
    download.pause();
    const body = collect(download);
    await waitFor(() => bulk !== undefined && bulk.sendWindow === 0 && stalled, 'the bulk sender to exhaust its window and stall');

    const small = client.open('http', { method: 'GET', target: '/small', headers: [] }, { end: true });
    expect((await collect(small)).toString()).toBe('small');

    // Nothing more crossed: the receiver holds at most one window, the sender at most its high-water mark plus one write.
    expect(wire.bytes.get(download.id)).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    expect(maxQueued).toBeLessThanOrEqual(STREAM_SEND_HIGH_WATER_BYTES + CHUNK_BYTES);
    expect(bulk!.pendingBytes).toBeLessThanOrEqual(STREAM_SEND_HIGH_WATER_BYTES + CHUNK_BYTES);

    download.resume();
    const got = await body;
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('reports what a paused reader can be made to hold (one window), and holds copies rather than views into transport messages', async () => {
    pair = connectedPair();
    const { client, server } = pair;
    const size = 1024 * 1024;
    let sender: Stream | undefined;
    server.on('stream', (s) => {
      sender = s;
      s.respond({ status: 200, headers: [] });
      let off = 0;
      const pump = () => {
        while (off < size) {
          const ok = s.write(new Uint8Array(CHUNK_BYTES).fill(7));
          off += CHUNK_BYTES;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const download = client.open('http', { method: 'GET', target: '/big', headers: [] }, { end: true });
    // Before a byte arrives it is the whole window (the credit the sender holds).
    expect(download.receiveExposure).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    download.pause();
    const chunks: Uint8Array[] = [];
    const ended = new Promise<void>((resolve) => download.on('end', resolve));
    download.on('data', (c) => chunks.push(c));
    await waitFor(() => sender?.sendWindow === 0, 'the sender to spend the window while the reader is paused');
    // The pair delivers each message a turn later: let the last ones arrive.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    // All of it arrived and waits: still one window, however it is split between received and still allowed.
    expect(chunks).toHaveLength(0);
    expect(download.receiveExposure).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    download.resume();
    await ended;
    expect(chunks.reduce((n, c) => n + c.byteLength, 0)).toBe(size);
    // The ones that waited in the paused inbox own their memory: no view pins the larger message they arrived in.
    const waited = chunks.slice(0, DEFAULT_STREAM_WINDOW_BYTES / MAX_PAYLOAD_BYTES);
    for (const c of waited) expect(c.buffer.byteLength).toBe(c.byteLength);
    // The peer ended: nothing more can arrive.
    expect(download.receiveExposure).toBe(0);
  });

  it('interleaves two concurrent bulk downloads (round-robin, neither waits for the other)', async () => {
    const order: number[] = [];
    pair = connectedPair({
      tap: (from, message) => {
        if (from !== 'server') return;
        for (const f of decodeFrames(message)) if (f.type === FrameType.DATA && f.payload.length > 0 && order.at(-1) !== f.streamId) order.push(f.streamId);
      },
    });
    const { client, server } = pair;
    const size = 2 * 1024 * 1024;
    server.on('stream', (s) => {
      s.respond({ status: 200, headers: [] });
      let off = 0;
      const pump = () => {
        while (off < size) {
          const ok = s.write(new Uint8Array(CHUNK_BYTES));
          off += CHUNK_BYTES;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const a = client.open('http', { method: 'GET', target: '/a', headers: [] }, { end: true });
    const b = client.open('http', { method: 'GET', target: '/b', headers: [] }, { end: true });
    const [ba, bb] = await Promise.all([collect(a), collect(b)]);
    expect([ba.length, bb.length]).toEqual([size, size]);
    // Strict alternation would be 2 * size / MAX_PAYLOAD_BYTES switches; demand far more than "one after the other" (1 switch).
    expect(order.length).toBeGreaterThan(size / MAX_PAYLOAD_BYTES);
  });

  it('bounds what a paused WebSocket reader buffers to one message plus one window', async () => {
    const wire = wireCounter();
    pair = connectedPair({ tap: wire.tap });
    const { client, server } = pair;
    const MESSAGE_BYTES = 100 * 1024; // its last fragment is small, so per-fragment credit alone would not bound it
    const COUNT = 100;
    let sent = 0;
    server.on('stream', (s) => {
      s.respond({ status: 101, headers: [] });
      const pump = () => {
        while (sent < COUNT) {
          sent++;
          if (!s.sendMessage(new Uint8Array(MESSAGE_BYTES).fill(sent))) return void s.once('drain', pump);
        }
      };
      pump();
    });
    const ws = client.open('ws', { method: 'GET', target: '/ws', headers: [] });
    ws.pause();
    const got: number[] = [];
    ws.on('message', (m) => got.push(m[0]!));
    // Stalled = nothing new on the wire for 50 event-loop turns (a credit round trip takes 2).
    let last = -1;
    let quietTurns = 0;
    await waitFor(() => {
      const now = wire.bytes.get(ws.id) ?? 0;
      quietTurns = now === last ? quietTurns + 1 : 0;
      last = now;
      return now > 0 && quietTurns >= 50;
    }, 'the WebSocket sender to stall');
    expect(wire.bytes.get(ws.id)).toBeLessThanOrEqual(MESSAGE_BYTES + DEFAULT_STREAM_WINDOW_BYTES);
    ws.resume();
    await waitFor(() => got.length === COUNT, 'every message after resume()');
    expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => (i + 1) & 0xff));
  });

  it("tells a writer that waits for 'drain' each time the peer takes some of its queue ('progress'), and nothing more once the peer's window is spent", async () => {
    pair = connectedPair();
    const { client, server } = pair;
    const body = pattern(2 * STREAM_SEND_HIGH_WATER_BYTES);
    let sender: Stream | undefined;
    const events: string[] = [];
    server.on('stream', (s) => {
      sender = s;
      s.respond({ status: 200, headers: [] });
      s.on('progress', () => events.push('progress'));
      s.on('drain', () => {
        events.push('drain');
        s.end();
      });
      // One write of twice the high-water mark: the writer waits for 'drain'.
      expect(s.write(body)).toBe(false);
    });
    const download = client.open('http', { method: 'GET', target: '/bulk', headers: [] }, { end: true });
    download.pause();
    const got = collect(download);
    // Awaited below; a failure before that must not leave it unhandled when the pair closes.
    got.catch(() => undefined);
    // The paused peer takes one window of it, then grants nothing more.
    await waitFor(() => sender !== undefined && sender.sendWindow === 0, "the sender to spend the peer's window");
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e === 'progress')).toBe(true);
    expect(sender!.pendingBytes).toBe(body.length - DEFAULT_STREAM_WINDOW_BYTES);
    download.resume();
    expect((await got).equals(body)).toBe(true);
    expect(events.at(-1)).toBe('drain');
  });
});
