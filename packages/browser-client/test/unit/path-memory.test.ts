/**
 * The path choice's memory across Service Worker restarts: what is stored,
 * what a restarted SW takes over, and when it lets go (path-memory.ts,
 * PathChooser.memo/restore). The store is a Map behind the KvStore
 * interface (IndexedDB itself is exercised by the e2e suites).
 */
import type { KvStore } from '../../src/sw/idb';
import { PathChooser, RTT_WINDOW_MS, STALL_CLEAR_SAMPLES } from '../../src/sw/path-choice';
import {
  BULK_MEMORY_MS,
  createPathMemory,
  memoFrom,
  parseStoredPathMemory,
  SAVE_EVERY_MS,
  STALL_MEMORY_MS,
  type StoredPathMemory,
} from '../../src/sw/path-memory';

const MiB = 1024 * 1024;
/** Lone small requests over P2P, as measured over 2 % loss: a 66 ms best, retransmission stalls at ~470 ms. */
const LOSSY = [66, 70, 68, 469, 72, 469, 69, 471, 75];

function mapKv(): KvStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    get: <T>(key: string) => Promise.resolve(data.get(key) as T | undefined),
    put: (key: string, value: unknown) => (data.set(key, structuredClone(value)), Promise.resolve()),
  };
}

const lone = (c: PathChooser, times: number[]) => times.forEach((ms, i) => c.recordHead('p2p', 'small', ms, 1_000 + i));

describe('PathChooser memo and restore', () => {
  it('hands a stall verdict and the bulk figures to a fresh chooser', () => {
    const before = new PathChooser();
    lone(before, LOSSY);
    before.recordRace({ p2p: 8 * MiB, relay: 15 * MiB }, 'relay');
    const memo = before.memo();
    expect(memo).toEqual({ p2pStall: 'observed', bytesPerS: { p2p: 8 * MiB, relay: 15 * MiB }, bulk: 'relay' });

    const after = new PathChooser();
    expect(after.stalls('p2p')).toBe(false);
    after.restore(memo);
    expect(after.stalls('p2p')).toBe(true);
    expect(after.wantsRace()).toBe(false);
    expect(after.chooseUpload().path).toBe('relay');
    expect(after.memo().p2pStall).toBe('remembered');
  });

  it(`keeps a remembered verdict through a stall and clears it after ${STALL_CLEAR_SAMPLES} clean lone requests in a row`, () => {
    const c = new PathChooser();
    c.restore({ p2pStall: 'remembered', bytesPerS: {}, bulk: 'p2p' });
    lone(c, [30, 31, 29, 30, 32]);
    lone(c, [400]);
    expect(c.stalls('p2p')).toBe(true);
    lone(
      c,
      Array.from({ length: STALL_CLEAR_SAMPLES - 1 }, () => 30),
    );
    expect(c.stalls('p2p')).toBe(true);
    lone(c, [31]);
    expect(c.stalls('p2p')).toBe(false);
    expect(c.memo().p2pStall).toBe('none');
  });

  it('lets what this SW measured already win over the memo', () => {
    const c = new PathChooser();
    c.recordRace({ p2p: 20 * MiB, relay: 5 * MiB }, 'p2p');
    c.restore({ p2pStall: 'none', bytesPerS: { p2p: 1 * MiB, relay: 30 * MiB }, bulk: 'relay' });
    expect(c.figures.p2p.bytesPerS).toBe(20 * MiB);
    expect(c.chooseUpload().path).toBe('p2p');
  });
});

describe('the stored path memory', () => {
  const valid: StoredPathMemory = { v: 1, stalledAt: 1_000, bulkAt: null, bytesPerS: {}, bulk: 'p2p' };

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['another version', { ...valid, v: 2 }],
    ['a negative time', { ...valid, stalledAt: -1 }],
    ['an unknown path', { ...valid, bulk: 'carrier-pigeon' }],
    ['a rate for an unknown path', { ...valid, bytesPerS: { turn: 5 } }],
    ['a rate that is no number', { ...valid, bytesPerS: { p2p: '5' } }],
    ['a zero rate', { ...valid, bytesPerS: { relay: 0 } }],
  ])('is ignored when it holds %s', (_what, raw) => {
    expect(parseStoredPathMemory(raw)).toBeUndefined();
  });

  it('takes over a verdict and figures that are fresh enough, and forgets older ones', () => {
    const stored: StoredPathMemory = { v: 1, stalledAt: 1_000, bulkAt: 1_000, bytesPerS: { relay: 9 * MiB }, bulk: 'relay' };
    expect(memoFrom(stored, 1_000 + STALL_MEMORY_MS - 1)).toEqual({ p2pStall: 'remembered', bytesPerS: { relay: 9 * MiB }, bulk: 'relay' });
    expect(memoFrom(stored, 1_000 + Math.max(STALL_MEMORY_MS, BULK_MEMORY_MS))).toEqual({ p2pStall: 'none', bytesPerS: {}, bulk: 'p2p' });
    // A clock that went back (another machine's profile, a changed clock) is no age to trust.
    expect(memoFrom(stored, 0).p2pStall).toBe('none');
  });

  it('saves what a SW saw and restores it in the next one, with the time the stall was last seen', async () => {
    jest.useFakeTimers();
    try {
      const kv = mapKv();
      let now = 50_000;
      const first = new PathChooser();
      await createPathMemory(kv, first, () => now).restored;
      lone(first, LOSSY);
      first.recordRace({ p2p: 8 * MiB, relay: 15 * MiB }, 'relay');
      await jest.advanceTimersByTimeAsync(SAVE_EVERY_MS);
      expect(kv.data.get('path-memory')).toEqual({ v: 1, stalledAt: 50_000, bulkAt: 50_000, bytesPerS: { p2p: 8 * MiB, relay: 15 * MiB }, bulk: 'relay' });

      // The SW stops; a new one starts a minute later and takes the verdict over without seeing a stall itself.
      now += 60_000;
      const second = new PathChooser();
      await createPathMemory(kv, second, () => now).restored;
      expect(second.stalls('p2p')).toBe(true);
      expect(second.wantsRace()).toBe(false);
      // A clean sample saves, and keeps the stall's own time: the verdict still expires from when it was seen.
      lone(second, [66]);
      second.recordBody('p2p', 'GET', '/big', 4 * MiB, 500);
      await jest.advanceTimersByTimeAsync(SAVE_EVERY_MS);
      expect(kv.data.get('path-memory')).toMatchObject({ stalledAt: 50_000, bulkAt: 110_000 });
    } finally {
      jest.useRealTimers();
    }
  });

  it('leaves the chooser fresh when the store cannot be read', async () => {
    const broken: KvStore = { get: () => Promise.reject(new Error('IndexedDB unavailable')), put: () => Promise.reject(new Error('no')) };
    const c = new PathChooser();
    await createPathMemory(broken, c).restored;
    expect(c.stalls('p2p')).toBe(false);
    expect(c.wantsRace()).toBe(true);
  });
});

describe('a newly installed Service Worker', () => {
  it('forgets what it took over from an earlier installation, in the store too', async () => {
    const kv = mapKv();
    kv.data.set('path-memory', { v: 1, stalledAt: 1_000, bulkAt: 1_000, bytesPerS: { relay: 9 * MiB }, bulk: 'relay' });
    const c = new PathChooser();
    const memory = createPathMemory(kv, c, () => 2_000);
    await memory.restored;
    expect([c.stalls('p2p'), c.wantsRace()]).toEqual([true, false]);
    await memory.forget();
    expect([c.stalls('p2p'), c.wantsRace(), c.chooseUpload().path]).toEqual([false, true, 'p2p']);
    expect(kv.data.get('path-memory')).toBeNull();
  });

  it('keeps what it measured itself when there was nothing to forget', async () => {
    const kv = mapKv();
    const c = new PathChooser();
    const memory = createPathMemory(kv, c);
    lone(c, LOSSY);
    await memory.forget();
    expect(c.stalls('p2p')).toBe(true);
  });
});

describe('a stall verdict within one Service Worker', () => {
  it(`outlasts its samples' window, until ${STALL_CLEAR_SAMPLES} clean lone requests in a row`, () => {
    const c = new PathChooser();
    lone(c, LOSSY);
    expect(c.stalls('p2p')).toBe(true);
    // Long after the window: the stalls have aged out, the link has not changed.
    const later = (times: number[], from: number) => times.forEach((ms, i) => c.recordHead('p2p', 'small', ms, from + i));
    later([67], 1_000 + RTT_WINDOW_MS * 3);
    expect(c.stalls('p2p')).toBe(true);
    expect(c.memo().p2pStall).toBe('remembered');
    later(
      Array.from({ length: STALL_CLEAR_SAMPLES - 1 }, () => 68),
      2_000 + RTT_WINDOW_MS * 3,
    );
    expect(c.stalls('p2p')).toBe(false);
  });
});
