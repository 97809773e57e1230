/**
 * The SW ⇄ shell body transport over a real MessageChannel (Node's, same
 * structured-clone and transfer semantics as the browser's).
 */
import { MessageChannel } from 'node:worker_threads';
import { concatBytes } from '@wingman/protocol';
import { PORT_CHUNK_BYTES } from '../../src/shared/constants';
import { parseShellToSwPort } from '../../src/shared/messages';
import { createBodyReceiver, createBodySender, pumpToSender, type BodyReceiver, type BodySender } from '../../src/shared/port-body';
import { delay } from '../../../../test/helpers/wait';

const WINDOW = 64 * 1024;

function pair(): { sender: BodySender; receiver: BodyReceiver; inflightPeak: () => number; cancelled: () => unknown; close(): void } {
  const { port1, port2 } = new MessageChannel();
  let inflight = 0;
  let peak = 0;
  let cancelled: unknown;
  const sender = createBodySender((m, t) => port1.postMessage(m, (t ?? []) as never), WINDOW);
  const receiver = createBodyReceiver({
    credit: (bytes) => port2.postMessage({ t: 'credit', bytes }),
    cancel: (reason) => {
      cancelled = reason ?? 'cancelled';
    },
    windowBytes: WINDOW,
  });
  port2.on('message', (raw: unknown) => {
    const m = parseShellToSwPort(raw);
    if (m?.t === 'data') {
      inflight += m.chunk.byteLength;
      peak = Math.max(peak, inflight);
      receiver.push(m.chunk);
    } else if (m?.t === 'end') receiver.end();
  });
  port1.on('message', (raw: { t: string; bytes: number }) => {
    if (raw.t === 'credit') {
      inflight -= raw.bytes;
      sender.credit(raw.bytes);
    }
  });
  return {
    sender,
    receiver,
    inflightPeak: () => peak,
    cancelled: () => cancelled,
    close() {
      port1.close();
      port2.close();
    },
  };
}

async function readAll(stream: ReadableStream<Uint8Array>, delayMs = 0): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    if (delayMs) await delay(delayMs); // pacing: a slow reader
  }
  return concatBytes(parts);
}

describe('a body over a MessagePort', () => {
  it('arrives byte for byte, whatever the chunking', async () => {
    const p = pair();
    const data = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 0xff);
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = 0; o < data.length;) {
          const n = Math.min(data.length - o, 1 + ((o * 7919) % 100_000));
          c.enqueue(data.slice(o, o + n));
          o += n;
        }
        c.close();
      },
    });
    const [, got] = await Promise.all([pumpToSender(source, p.sender), readAll(p.receiver.stream)]);
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
    p.close();
  });

  it('never has more than one window (plus one chunk) in flight with a slow consumer', async () => {
    const p = pair();
    const chunk = new Uint8Array(16 * 1024);
    let enqueued = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(chunk.slice());
        enqueued += chunk.length;
        if (enqueued >= 1024 * 1024) c.close();
      },
    });
    await Promise.all([pumpToSender(source, p.sender), readAll(p.receiver.stream, 1)]);
    expect(p.inflightPeak()).toBeLessThanOrEqual(WINDOW + chunk.length);
    p.close();
  });

  it('keeps to one window (plus one piece) in flight when the source gives the whole body as one chunk', async () => {
    const p = pair();
    const data = new Uint8Array(1024 * 1024 + 5).map((_, i) => (i * 13) & 0xff);
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.slice());
        c.close();
      },
    });
    try {
      const [, got] = await Promise.all([pumpToSender(source, p.sender), readAll(p.receiver.stream, 1)]);
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      expect(p.inflightPeak()).toBeLessThanOrEqual(WINDOW + PORT_CHUNK_BYTES);
    } finally {
      // Open ports would keep jest waiting after a failed expectation.
      p.close();
    }
  });

  it("fails the consumer's read with the sender's error", async () => {
    const p = pair();
    p.sender.send(new Uint8Array([1, 2, 3]));
    const reader = p.receiver.stream.getReader();
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2, 3]));
    const err = new Error('ERR_CONNECTION_LOST: gone');
    p.receiver.abort(err);
    await expect(reader.read()).rejects.toBe(err);
    p.close();
  });

  it('tells the sender when the consumer cancels', async () => {
    const p = pair();
    await p.receiver.stream.cancel('aborted by the page');
    expect(p.cancelled()).toBe('aborted by the page');
    p.close();
  });

  it('rejects waits for room once the sender is closed', async () => {
    const p = pair();
    p.sender.send(new Uint8Array(WINDOW));
    const room = p.sender.room();
    p.sender.close(new Error('finished'));
    await expect(room).rejects.toThrow('finished');
    expect(p.sender.send(new Uint8Array(1))).toBe(false);
    p.close();
  });
});
