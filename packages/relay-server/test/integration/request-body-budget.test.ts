/**
 * The request body's place in the agent's buffer budget (request-body.ts):
 * a real stream from a connection pair, its body written into a sink that
 * plays the HTTP client towards the app. An upload whose app reads, however
 * slowly, is not a stalled one.
 */
import { PassThrough } from 'node:stream';
import { createBufferBudget, type Stream } from '@wingman/protocol';
import { createRequestBody, REQUEST_BODY_HIGH_WATER_BYTES, REQUEST_BODY_READ_AHEAD_BYTES } from '../../src/forward/request-body';
import { guardExchange } from '../../src/forward/exchange-guard';
import { connectedPair } from './helpers/pair';
import { until } from '../../../../test/helpers/wait';

const MiB = 1024 * 1024;
let pair: ReturnType<typeof connectedPair> | undefined;

afterEach(() => pair?.close());

/** An upload of `bytes` the viewer side writes as fast as the stream lets it, on a stream the agent side serves. */
function upload(bytes: number): Promise<Stream> {
  pair = connectedPair();
  const agentSide = new Promise<Stream>((resolve) => pair!.server.once('stream', resolve));
  const s = pair.client.open('http', { method: 'POST', target: '/up', headers: [['content-length', String(bytes)]] });
  const block = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < bytes && !s.closed) {
      sent += block.length;
      if (!s.write(block)) return void s.once('drain', pump);
    }
  };
  pump();
  return agentSide;
}

describe('request body: the agent buffer budget', () => {
  it('moves an upload whose app reads some of the queued body behind one that started holding after it and never moved', async () => {
    const budget = createBufferBudget(64 * MiB);
    const evicted: string[] = [];
    const slowHold = budget.hold(() => evicted.push('slow'));
    const stream = await upload(8 * MiB);
    const body = createRequestBody(stream, {
      contentLength: 8 * MiB,
      onFramingKnown: () => undefined,
      onViolation: () => undefined,
      hold: slowHold,
      guard: guardExchange(stream),
    });
    // The HTTP client towards the app: it reads only when the test says (an app that reads slowly).
    const sink = new PassThrough({ writableHighWaterMark: REQUEST_BODY_HIGH_WATER_BYTES, readableHighWaterMark: REQUEST_BODY_READ_AHEAD_BYTES });
    body.pipeTo(sink);
    await until(() => stream.isPaused && budget.total() > REQUEST_BODY_HIGH_WATER_BYTES, { timeoutMs: 10_000, what: 'the upload to pause and hold its queue' });
    const held = budget.total();
    // Another exchange starts holding after it and never moves.
    const stalled = budget.hold(() => evicted.push('stalled'));
    stalled.set(held);
    // The app reads a little of the upload: less than would drain its queue (the hold stays).
    for (let i = 0; i < 4; i++) {
      sink.read(64 * 1024);
      await new Promise((r) => setImmediate(r));
    }
    expect(stream.isPaused).toBe(true);
    // A third exchange takes the budget past its limit: the one that has held the longest without progress goes.
    budget.hold(() => evicted.push('newcomer')).set(budget.limit - held);
    expect(evicted).toEqual(['stalled']);
    expect(slowHold.released).toBe(false);
  });
});
