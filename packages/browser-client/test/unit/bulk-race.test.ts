/**
 * The race on a virtual clock: each path's pace is a timer of jest's fake
 * clock and the race reads the same clock, so the rates, the order of events
 * and so each verdict are the same on every run, whatever the machine's load.
 */
import { RACE_MIN_BYTES, raceBodies, raceThis, sameBody, type RaceFacts, type RaceOptions } from '../../src/sw/bulk-race';

const KiB = 1024;

beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

/** Virtual milliseconds any one test may take before it is a bug (a race that never ends). */
const VIRTUAL_LIMIT_MS = 60_000;

/** Resolves with `work`'s result, advancing the virtual clock 1 ms at a time until it settles. */
async function drive<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.finally(() => (settled = true));
  for (let ms = 0; !settled; ms++) {
    if (ms > VIRTUAL_LIMIT_MS) throw new Error(`still running after ${VIRTUAL_LIMIT_MS} virtual ms`);
    await jest.advanceTimersByTimeAsync(1);
  }
  return done;
}

/** Every race here reads the fake clock. */
const clock = { now: () => Date.now() };

/** The test body: byte i is i mod 251 (a prime, so chunk boundaries never line up with the pattern). */
function pattern(from: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);
}

/**
 * A body of `total` bytes in `chunk`-byte pieces, one piece every `everyMs`
 * (0: as fast as it is read); `failAt`: errors once this many bytes went out.
 */
function source(total: number, chunk: number, everyMs: number, failAt?: number): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let sent = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (everyMs > 0) await new Promise((r) => setTimeout(r, everyMs));
        if (failAt !== undefined && sent >= failAt) return controller.error(new Error('channel lost'));
        if (sent >= total) return controller.close();
        const n = Math.min(chunk, total - sent);
        controller.enqueue(pattern(sent, n));
        sent += n;
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, cancelled: () => cancelled };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** Whether `stream` is exactly the test body of `total` bytes (compared as Buffers: jest's deep equality is slow on large arrays). */
async function intact(stream: ReadableStream<Uint8Array>, total: number): Promise<boolean> {
  return (await drive(readAll(stream))).equals(pattern(0, total));
}

const head = (length: number, extra: Array<[string, string]> = []) => ({
  status: 200,
  headers: [['content-length', String(length)], ...extra] as Array<[string, string]>,
});

/** A race of `p2p` against a relay that answers `relay`, both `length` bytes long. */
function race(p2p: ReadableStream<Uint8Array>, relay: ReadableStream<Uint8Array>, length: number, options: RaceOptions) {
  return drive(
    raceBodies(p2p, () => Promise.resolve({ head: head(length), body: relay }), head(length), new AbortController().signal, { ...clock, ...options }),
  );
}

describe('racing a large body over P2P and the relay', () => {
  const total = 256 * KiB;
  // The relay from the start (no P2P-alone stretch): these tests are about the race itself.
  const options = { soloMs: 0, decideBytes: 128 * KiB, maxMs: 5_000 };

  it('hands the body to the relay when it carries more than the margin, and the page still gets every byte once, in order', async () => {
    const p2p = source(total, 4 * KiB, 20);
    const relay = source(total, 16 * KiB, 1);
    const r = await race(p2p.stream, relay.stream, total, options);
    expect(r.winner).toBe('relay');
    expect(r.ended).toBe('bytes');
    expect(r.bytesPerS.relay).toBeGreaterThan(r.bytesPerS.p2p);
    expect(p2p.cancelled()).toBe(true);
    expect(await intact(r.body, total)).toBe(true);
  });

  it('keeps P2P when it is faster, and cancels the relay', async () => {
    const p2p = source(total, 16 * KiB, 1);
    const relay = source(total, 4 * KiB, 20);
    const r = await race(p2p.stream, relay.stream, total, options);
    expect(r.winner).toBe('p2p');
    expect(relay.cancelled()).toBe(true);
    expect(await intact(r.body, total)).toBe(true);
  });

  it('keeps P2P when the relay is ahead by less than the margin (P2P had a head start)', async () => {
    const p2p = source(total, 10 * KiB, 5);
    const relay = source(total, 11 * KiB, 5);
    const r = await race(p2p.stream, relay.stream, total, options);
    expect(r.winner).toBe('p2p');
    expect(await intact(r.body, total)).toBe(true);
  });

  it('ends the race at once when the relay is far ahead, but not when P2P is (the relay may still be starting)', async () => {
    const big = 2 * 1024 * KiB;
    const slowP2p = source(big, 4 * KiB, 20);
    const fastRelay = source(big, 64 * KiB, 0);
    const r = await race(slowP2p.stream, fastRelay.stream, big, {
      soloMs: 0,
      decideBytes: big,
      maxMs: 5_000,
    });
    expect(r).toMatchObject({ winner: 'relay', ended: 'clear' });
    expect(await intact(r.body, big)).toBe(true);

    const fastP2p = source(big, 64 * KiB, 0);
    const slowRelay = source(big, 4 * KiB, 20);
    const r2 = await race(fastP2p.stream, slowRelay.stream, big, {
      soloMs: 0,
      decideBytes: big,
      maxMs: 5_000,
    });
    expect(r2).toMatchObject({ winner: 'p2p', ended: 'bytes' });
    expect(await intact(r2.body, big)).toBe(true);
  });

  it('decides on what each path carried once the time is up', async () => {
    const p2p = source(total, 1 * KiB, 10);
    const relay = source(total, 8 * KiB, 10);
    const r = await race(p2p.stream, relay.stream, total, {
      soloMs: 0,
      decideBytes: total,
      maxMs: 150,
    });
    expect(r).toMatchObject({ winner: 'relay', ended: 'time' });
    expect(await intact(r.body, total)).toBe(true);
  });

  it('keeps P2P without a race when the relay answers with another body (length, status, coding or validator)', async () => {
    for (const other of [head(total - 1), { ...head(total), status: 206 }, head(total, [['content-encoding', 'gzip']]), head(total, [['etag', '"b"']])]) {
      const p2p = source(total, 16 * KiB, 0);
      const relay = source(total, 16 * KiB, 0);
      const r = await drive(
        raceBodies(p2p.stream, () => Promise.resolve({ head: other, body: relay.stream }), head(total, [['etag', '"a"']]), new AbortController().signal, {
          ...clock,
          ...options,
        }),
      );
      expect(r).toMatchObject({ winner: 'p2p', ended: expect.stringMatching(/failed|bytes|done/) });
      expect(await intact(r.body, total)).toBe(true);
    }
  });

  it('keeps P2P when the relay fetch fails, and moves to the relay when the channel fails mid-race', async () => {
    const p2p = source(total, 16 * KiB, 0);
    const r = await drive(
      raceBodies(p2p.stream, () => Promise.reject(new Error('offline')), head(total), new AbortController().signal, { ...clock, ...options }),
    );
    expect(r.winner).toBe('p2p');
    expect(await intact(r.body, total)).toBe(true);

    const broken = source(total, 4 * KiB, 2, 40 * KiB);
    const relay = source(total, 4 * KiB, 2);
    const r2 = await race(broken.stream, relay.stream, total, options);
    expect(r2).toMatchObject({ winner: 'relay', ended: 'failed' });
    expect(await intact(r2.body, total)).toBe(true);
  });

  it('cancels both paths when the request is aborted', async () => {
    const p2p = source(total, 1 * KiB, 10);
    const relay = source(total, 1 * KiB, 10);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await drive(raceBodies(p2p.stream, () => Promise.resolve({ head: head(total), body: relay.stream }), head(total), ac.signal, { ...clock, ...options }));
    expect([p2p.cancelled(), relay.cancelled()]).toEqual([true, true]);
  });
});

describe('P2P alone first', () => {
  const total = 512 * KiB;
  // Scaled down: 64 KiB alone, or 200 ms; 1 MB/s is enough.
  const solo = { soloBytes: 64 * KiB, soloMs: 200, enoughBytesPerS: 1_000_000, decideBytes: 256 * KiB, maxMs: 5_000 };

  it('keeps a fast enough P2P body without ever asking the relay', async () => {
    const p2p = source(total, 16 * KiB, 1);
    let asked = 0;
    const r = await drive(
      raceBodies(
        p2p.stream,
        () => {
          asked++;
          return Promise.resolve({ head: head(total), body: source(total, 64 * KiB, 0).stream });
        },
        head(total),
        new AbortController().signal,
        { ...clock, ...solo },
      ),
    );
    expect(r).toMatchObject({ winner: 'p2p', ended: 'fast' });
    expect(asked).toBe(0);
    expect(r.bytesPerS.relay).toBe(0);
    expect(r.bytesPerS.p2p).toBeGreaterThanOrEqual(solo.enoughBytesPerS);
    expect(await intact(r.body, total)).toBe(true);
  });

  it('races a slower P2P body once its time alone is up, and the faster relay takes it', async () => {
    const p2p = source(total, 1 * KiB, 10);
    const relay = source(total, 64 * KiB, 0);
    let askedAfter = -1;
    const started = Date.now();
    const r = await drive(
      raceBodies(
        p2p.stream,
        () => {
          askedAfter = Date.now() - started;
          return Promise.resolve({ head: head(total), body: relay.stream });
        },
        head(total),
        new AbortController().signal,
        { ...clock, ...solo },
      ),
    );
    expect(r.winner).toBe('relay');
    expect(askedAfter).toBeGreaterThanOrEqual(solo.soloMs - 5);
    expect(await intact(r.body, total)).toBe(true);
  });
});

describe('same body on both paths', () => {
  it.each([
    ['same length, no validators', head(10), head(10), true],
    ['same ETag', head(10, [['etag', '"x"']]), head(10, [['etag', '"x"']]), true],
    ['a validator on one side only', head(10, [['etag', '"x"']]), head(10), true],
    ['different Last-Modified', head(10, [['last-modified', 'a']]), head(10, [['last-modified', 'b']]), false],
    ['no length', { status: 200, headers: [] }, { status: 200, headers: [] }, false],
    ['identity coding', head(10, [['content-encoding', 'identity']]), head(10), true],
  ] as const)('%s: %p', (_name, a, b, same) => {
    expect(sameBody(a, b)).toBe(same);
  });
});

describe('which P2P responses are raced', () => {
  const large: RaceFacts = { method: 'GET', status: 200, length: RACE_MIN_BYTES, range: false, navigate: false, wanted: true, on: true };
  it.each([
    ['a large whole GET while the chooser wants a race', {}, true],
    ['the race switched off (P2P_BULK_RACE=false): the body stays on its path', { on: false }, false],
    ['the chooser has figures enough', { wanted: false }, false],
    ['a body below RACE_MIN_BYTES', { length: RACE_MIN_BYTES - 1 }, false],
    ['no declared length', { length: NaN }, false],
    ['a range', { range: true }, false],
    ['a navigation', { navigate: true }, false],
    ['not a 200', { status: 206 }, false],
    ['not a GET', { method: 'POST' }, false],
  ] as const)('%s: %p', (_name, facts, raced) => {
    expect(raceThis({ ...large, ...facts })).toBe(raced);
  });
});
