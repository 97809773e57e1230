import {
  decodeFrames,
  DEFAULT_PRIORITY,
  FrameType,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  CAPABILITIES,
  parsePriority,
  PRIORITY_HEADER,
  requestedPriority,
  withoutPriority,
  type Connection,
  type PriorityClass,
  type Stream,
} from '@wingman/protocol';
import { connectedPair, tick, waitFor, type Pair } from './pair';

/** A stream frame as it left the server, in wire order, with the message it rode in. */
interface Sent {
  message: number;
  type: FrameType;
  streamId: number;
  bytes: number;
}

/**
 * A pair whose server transport can be held "full" (its bufferedAmount above
 * the high-water mark, as a congested socket): the server's pump then queues
 * without sending, and release() lets it build messages from what waits.
 * Each server stream takes the class its request asks for (requestedPriority).
 */
function heldPair(maxMessageBytes = 4 * MAX_FRAME_BYTES): { pair: Pair; sent: Sent[]; hold(): void; release(): void } {
  let held = false;
  let messages = 0;
  const sent: Sent[] = [];
  const pair = connectedPair({
    maxMessageBytes,
    buffered: (from) => (from === 'server' && held ? Number.MAX_SAFE_INTEGER : 0),
    tap: (from, message) => {
      if (from !== 'server') return;
      messages++;
      for (const f of decodeFrames(message))
        if (f.streamId !== 0) sent.push({ message: messages, type: f.type, streamId: f.streamId, bytes: f.payload.length });
    },
  });
  pair.server.on('stream', (s) => s.setPriority(requestedPriority(s.head.headers)));
  return {
    pair,
    sent,
    hold: () => (held = true),
    release: () => {
      held = false;
      pair.server.drain();
    },
  };
}

async function ready(pair: Pair): Promise<void> {
  await waitFor(() => pair.client.isReady && pair.server.isReady, 'both HELLOs');
}

/** Opens a GET asking for `cls`; resolves with the server's side of the stream once it arrived. */
async function request(client: Connection, server: Connection, path: string, cls: PriorityClass): Promise<{ local: Stream; remote: Stream }> {
  let remote: Stream | undefined;
  const off = server.on('stream', (s) => {
    if (s.head.target === path) remote = s;
  });
  const local = client.open('http', { method: 'GET', target: path, headers: [[PRIORITY_HEADER, cls]] }, { end: true });
  await waitFor(() => remote !== undefined, `server got ${path}`);
  off();
  return { local, remote: remote! };
}

/** Queues a response of `frames` full DATA frames (ignoring backpressure: the test holds the transport). */
function answer(s: Stream, frames: number): void {
  s.respond({ status: 200, headers: [] });
  for (let i = 0; i < frames; i++) s.write(new Uint8Array(MAX_PAYLOAD_BYTES));
  s.end();
}

describe('priority scheduling (frame-packer.ts)', () => {
  let pair: Pair | undefined;
  afterEach(() => pair?.close());

  it('packs a newly opened document stream ahead of a bulk stream whose frames were queued first, in the same message too', async () => {
    const h = heldPair();
    pair = h.pair;
    await ready(pair);
    const bulk = await request(pair.client, pair.server, '/big.bin', 'bulk');
    h.hold();
    answer(bulk.remote, 12);
    await tick();
    const doc = await request(pair.client, pair.server, '/', 'document');
    answer(doc.remote, 2);
    await tick();
    const before = h.sent.length;
    h.release();
    await waitFor(() => doc.remote.localEndSent && bulk.remote.localEndSent, 'both responses sent');
    const after = h.sent.slice(before);
    const lastDoc = after.map((f) => f.streamId).lastIndexOf(doc.remote.id);
    const firstBulk = after.findIndex((f) => f.streamId === bulk.remote.id);
    // RESPONSE, 2 DATA and the END: every one of them before any bulk frame.
    expect(lastDoc).toBe(3);
    expect(after.slice(0, lastDoc + 1).every((f) => f.streamId === doc.remote.id)).toBe(true);
    expect(firstBulk).toBeGreaterThan(lastDoc);
    // The message that carries the document's last frame is completed with bulk frames after it.
    expect(after[firstBulk]!.message).toBe(after[lastDoc]!.message);
  });

  it('serves the streams of one class round-robin, and a lower class only after them', async () => {
    const h = heldPair(MAX_FRAME_BYTES);
    pair = h.pair;
    await ready(pair);
    const bulk = await request(pair.client, pair.server, '/big.bin', 'bulk');
    const a = await request(pair.client, pair.server, '/a.js', 'script');
    const b = await request(pair.client, pair.server, '/b.css', 'script');
    h.hold();
    answer(bulk.remote, 4);
    answer(a.remote, 4);
    answer(b.remote, 4);
    await tick();
    const before = h.sent.length;
    h.release();
    await waitFor(() => bulk.remote.localEndSent, 'bulk sent');
    const data = h.sent.slice(before).filter((f) => f.type === FrameType.DATA && f.bytes > 0);
    const names = new Map([
      [bulk.remote.id, 'bulk'],
      [a.remote.id, 'a'],
      [b.remote.id, 'b'],
    ]);
    const order = data.map((f) => names.get(f.streamId)!);
    const firstBulk = order.indexOf('bulk');
    // The two scripts alternate frame by frame (frames cut at a message's end included), then the bulk stream alone.
    expect(firstBulk).toBeGreaterThanOrEqual(8);
    expect(order.slice(0, firstBulk)).toEqual(order.slice(0, firstBulk).map((_, i) => (i % 2 === 0 ? 'a' : 'b')));
    expect(order.slice(firstBulk).every((n) => n === 'bulk')).toBe(true);
  });

  it('lets a bulk stream progress while the more urgent streams have nothing they can send', async () => {
    const h = heldPair();
    pair = h.pair;
    await ready(pair);
    const doc = await request(pair.client, pair.server, '/', 'document');
    const bulk = await request(pair.client, pair.server, '/big.bin', 'bulk');
    // The document's reader takes nothing: its stream exhausts its send window and waits.
    doc.local.pause();
    doc.remote.respond({ status: 200, headers: [] });
    const docBytes = 1024 * 1024;
    for (let off = 0; off < docBytes; off += 16 * 1024) doc.remote.write(new Uint8Array(16 * 1024));
    let received = 0;
    bulk.local.on('data', (c) => (received += c.byteLength));
    const ended = new Promise<void>((resolve) => bulk.local.on('end', () => resolve()));
    const size = 2 * 1024 * 1024;
    bulk.remote.respond({ status: 200, headers: [] });
    let off = 0;
    const pump = () => {
      while (off < size) {
        off += 16 * 1024;
        if (!bulk.remote.write(new Uint8Array(16 * 1024))) return void bulk.remote.once('drain', pump);
      }
      bulk.remote.end();
    };
    pump();
    await ended;
    expect(received).toBe(size);
    // The document is still there, waiting for its reader, not for the bulk stream.
    expect(doc.remote.closed).toBe(false);
    expect(doc.remote.pendingBytes).toBeGreaterThan(0);
  });

  it('sends the opening frames of new streams in id order whatever their classes (the peer requires it)', async () => {
    let held = true;
    const opened: number[] = [];
    pair = connectedPair({ buffered: (from) => (from === 'client' && held ? Number.MAX_SAFE_INTEGER : 0) });
    const { client, server } = pair;
    let errors = 0;
    server.on('error', () => errors++);
    server.on('stream', (s) => {
      opened.push(s.id);
      s.respond({ status: 204, headers: [] }, { end: true });
    });
    held = false;
    client.drain();
    await ready(pair);
    held = true;
    const classes: PriorityClass[] = ['bulk', 'media', 'fetch', 'script', 'document'];
    const streams = classes.map((cls, i) => client.open('http', { method: 'GET', target: `/${i}`, headers: [] }, { end: true, priority: cls }));
    await tick();
    held = false;
    client.drain();
    await waitFor(() => opened.length === classes.length, 'every stream opened');
    expect(opened).toEqual(streams.map((s) => s.id));
    expect(errors).toBe(0);
  });
});

describe('the priority field (priority.ts)', () => {
  it('takes exactly a known class, and anything else as the default', () => {
    expect(parsePriority('document')).toBe('document');
    expect(parsePriority(' bulk ')).toBe('bulk');
    for (const v of [undefined, '', 'Document', 'urgent', '0', 'document, bulk']) expect(parsePriority(v)).toBe(DEFAULT_PRIORITY);
    expect(requestedPriority([])).toBe(DEFAULT_PRIORITY);
    expect(requestedPriority([[PRIORITY_HEADER, 'script']])).toBe('script');
    // Repeated: no single answer, so the default.
    expect(
      requestedPriority([
        [PRIORITY_HEADER, 'document'],
        [PRIORITY_HEADER, 'bulk'],
      ]),
    ).toBe(DEFAULT_PRIORITY);
  });

  it('goes only to a peer that announces it takes the field: the capability in HELLO, and the head without it otherwise', async () => {
    const pair = connectedPair();
    try {
      await waitFor(() => pair.client.isReady && pair.server.isReady, 'both HELLOs');
      expect(pair.client.peerCapabilities & CAPABILITIES.PRIORITY).toBe(CAPABILITIES.PRIORITY);
      expect(pair.server.peerCapabilities & CAPABILITIES.PRIORITY).toBe(CAPABILITIES.PRIORITY);
    } finally {
      pair.close();
    }
    expect(
      withoutPriority([
        ['accept', '*/*'],
        [PRIORITY_HEADER, 'document'],
        ['x-app', PRIORITY_HEADER],
      ]),
    ).toEqual([
      ['accept', '*/*'],
      ['x-app', PRIORITY_HEADER],
    ]);
  });
});
