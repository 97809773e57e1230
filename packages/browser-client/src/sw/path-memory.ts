/**
 * The path choice's memory across Service Worker restarts. An idle SW is
 * stopped within ~30 s and its PathChooser goes with it; the next one starts
 * blind. Over a lossy link that costs a whole page load: the reload's module
 * burst goes into a channel that stalls on every lost packet until three
 * lone requests have shown it again (measured, lossy-mobile: the reload
 * after the SW stopped took 3.7× relay-only). Kept in IndexedDB (idb.ts):
 * - the P2P stall verdict, for STALL_MEMORY_MS after this session last saw
 *   it stall; a restarted SW holds it until its own lone requests clear it
 *   (path-choice.ts STALL_CLEAR_SAMPLES). A wrong verdict only sends bursts
 *   over the relay, which is what a relay-only session does;
 * - the bulk figures and the path bulk took, for BULK_MEMORY_MS after they
 *   were measured, so a restarted SW does not race its next large download
 *   again.
 * A restart keeps them; a new installation (a new version, or a registration
 * after an unregister) starts without them (forget, on activate).
 * What is read is validated: the store is ours, but outlives code versions.
 */
import type { KvStore } from './idb';
import type { PathChooser, PathMemo, PathName } from './path-choice';

const KEY = 'path-memory';
/** A stall verdict older than this is forgotten: the reviewer may have left the lossy link (10 min: a review session's pause). */
export const STALL_MEMORY_MS = 10 * 60_000;
/** Bulk figures older than this are measured again (10 min, as the verdict). */
export const BULK_MEMORY_MS = 10 * 60_000;
/** Writes are at most this often (the first at once): a stalling path reports on every lone request. */
export const SAVE_EVERY_MS = 1_000;

export interface StoredPathMemory {
  v: 1;
  /** When P2P was last seen stalling (epoch ms), or null. */
  stalledAt: number | null;
  /** When the bulk figures were last measured (epoch ms), or null when there are none. */
  bulkAt: number | null;
  bytesPerS: Partial<Record<PathName, number>>;
  bulk: PathName;
}

const isPath = (x: unknown): x is PathName => x === 'p2p' || x === 'relay';
const isTime = (x: unknown): x is number | null => x === null || (typeof x === 'number' && Number.isFinite(x) && x >= 0);
const isRate = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** The stored memory, or undefined for anything else (another version, a damaged record). */
export function parseStoredPathMemory(x: unknown): StoredPathMemory | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const o = x as Record<string, unknown>;
  if (o.v !== 1 || !isTime(o.stalledAt) || !isTime(o.bulkAt) || !isPath(o.bulk)) return undefined;
  if (typeof o.bytesPerS !== 'object' || o.bytesPerS === null) return undefined;
  const rates = o.bytesPerS as Record<string, unknown>;
  const bytesPerS: StoredPathMemory['bytesPerS'] = {};
  for (const [k, v] of Object.entries(rates)) {
    if (!isPath(k) || !isRate(v)) return undefined;
    bytesPerS[k] = v;
  }
  return { v: 1, stalledAt: o.stalledAt, bulkAt: o.bulkAt, bytesPerS, bulk: o.bulk };
}

/** What a restarted SW takes over from `stored` at time `now`. */
export function memoFrom(stored: StoredPathMemory, now: number): PathMemo {
  const fresh = (at: number | null, maxAgeMs: number) => at !== null && now - at >= 0 && now - at < maxAgeMs;
  const bulk = fresh(stored.bulkAt, BULK_MEMORY_MS);
  return {
    p2pStall: fresh(stored.stalledAt, STALL_MEMORY_MS) ? 'remembered' : 'none',
    bytesPerS: bulk ? stored.bytesPerS : {},
    bulk: bulk ? stored.bulk : 'p2p',
  };
}

export interface PathMemory {
  /** Settles once the previous SW's memory was read and handed to the chooser (or found absent or unreadable). */
  readonly restored: Promise<void>;
  /**
   * For a newly installed SW (its `activate`): the memory is a restarted
   * SW's, not a new one's. Clears the store and what the chooser took over.
   */
  forget(): Promise<void>;
}

/**
 * Restores `paths` from the store, then saves it whenever it reports a
 * change (at most every SAVE_EVERY_MS). A failed read or write leaves the
 * chooser as a fresh one would be: requests never wait on this beyond the
 * store's own timeout.
 */
export function createPathMemory(kv: KvStore, paths: PathChooser, now: () => number = Date.now): PathMemory {
  let stored: StoredPathMemory | undefined;
  let bulkMeasuredAt: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const restored = kv
    .get<unknown>(KEY)
    .then((raw) => {
      stored = parseStoredPathMemory(raw);
      if (stored) paths.restore(memoFrom(stored, now()));
    })
    .catch(() => undefined);

  const write = () => {
    timer = undefined;
    const m = paths.memo();
    const t = now();
    const next: StoredPathMemory = {
      v: 1,
      stalledAt: m.p2pStall === 'observed' ? t : m.p2pStall === 'remembered' ? (stored?.stalledAt ?? null) : null,
      bulkAt: Object.keys(m.bytesPerS).length === 0 ? null : (bulkMeasuredAt ?? stored?.bulkAt ?? null),
      bytesPerS: m.bytesPerS,
      bulk: m.bulk,
    };
    stored = next;
    kv.put(KEY, next).catch(() => undefined);
  };

  let lastWrite = -Infinity;
  paths.onChange = (what) => {
    if (what === 'bulk') bulkMeasuredAt = now();
    if (timer !== undefined) return;
    // The first change at once (an idle SW may be stopped any moment after), later ones at most every SAVE_EVERY_MS.
    const wait = Math.max(0, lastWrite + SAVE_EVERY_MS - now());
    timer = setTimeout(() => {
      lastWrite = now();
      void restored.then(write);
    }, wait);
  };
  const forget = async () => {
    await restored;
    // Nothing was stored (a first visit): nothing to take back, and the chooser may be measuring already.
    if (!stored) return;
    paths.clear();
    stored = undefined;
    bulkMeasuredAt = null;
    await kv.put(KEY, null).catch(() => undefined);
  };
  return { restored, forget };
}
