/**
 * Which path carries a request when both are up (pure; the router feeds it measurements): small requests
 * the default path, bulk ones the higher throughput; and the lone small requests' times over P2P, which
 * the stall verdict reads. docs/browser-client.md §Routing rules, "Path choice".
 */

export type PathName = 'p2p' | 'relay';
export type RequestClass = 'small' | 'bulk';

import { BULK_MIN_BYTES } from '../shared/constants';
import type { LossyPath } from './lossy-path';

/** Weight of the newest sample in each moving average (0.3: about the last three samples count). */
const EWMA_WEIGHT = 0.3;
/** The relay is chosen only when this much better than P2P (×1.25 throughput): measurement noise must not flip paths. */
export const SWITCH_MARGIN = 1.25;
/**
 * A P2P bulk rate this high is enough, bytes/s: bulk stays on P2P without
 * measuring the relay against it (no race, no probe, no re-probe), so the
 * tunnel server carries no bulk bytes to learn what need not be known. 4 MB/s
 * moves 20 MiB in 5 s; a faster relay would gain a few seconds at most.
 */
export const P2P_BULK_ENOUGH_BYTES_PER_S = 4_000_000;
/** The other path's first bulk sample is taken on this bulk request (the first ones go the default way). */
export const PROBE_AFTER = 2;
/** Once both paths have a figure, every REPROBE_EVERY-th bulk request goes the other way to refresh it. */
export const REPROBE_EVERY = 20;
/** How long a lone small P2P request's time is kept for the stall verdict, ms: it outlasts a page load's burst. */
export const RTT_WINDOW_MS = 10_000;
/** Times kept within the window (bounds memory; a page load of ~500 requests fits). */
const MAX_RTT_SAMPLES = 512;
/** URLs whose body size is remembered (bounded: oldest forgotten). */
const MAX_REMEMBERED_URLS = 256;

/** Path suffixes whose responses are usually large (media, archives, disk images). */
const BULK_SUFFIX = /\.(mp4|m4v|webm|mov|mkv|avi|mp3|flac|wav|ogg|zip|tar|tgz|gz|bz2|xz|7z|rar|iso|dmg|img|bin|pdf|wasm)$/i;

interface RequestFacts {
  method: string;
  /** Path and query. */
  target: string;
  /** Declared request body length, when known. */
  bodyBytes?: number;
  hasRange: boolean;
}

export interface PathFigures {
  /** EWMA of body bytes per second over bulk bodies. */
  bytesPerS?: number;
}

export interface Decision {
  path: PathName;
  /** Why, for diagnostics and the badge: 'default', 'probe', 'faster'. */
  why: 'default' | 'probe' | 'faster';
}

const ewma = (old: number | undefined, sample: number) => (old === undefined ? sample : old + EWMA_WEIGHT * (sample - old));

export class PathChooser {
  readonly figures: Record<PathName, PathFigures> = { p2p: {}, relay: {} };
  /** Bulk requests asked about, for the probes. */
  private bulkSeen = 0;
  private readonly sizes = new Map<string, number>();
  /** Requests on P2P that have not had their head yet. */
  private inFlight = 0;
  /** Requests the Service Worker answers whose head has not come yet, on any path or before their route (take()). */
  private taken = 0;
  /** Recent lone small P2P requests: [when (ms, the caller's clock), time to the head (ms)]. */
  private readonly recentRtts: Array<[number, number]> = [];
  /** The path each class takes outside probes (what the badge shows). */
  readonly preferred: Record<RequestClass, PathName> = { small: 'p2p', bulk: 'p2p' };

  /** `lossy`: told each lone small P2P request's time, for its stall verdict. */
  constructor(private readonly lossy?: Pick<LossyPath, 'lone'>) {}

  /** The class of a request, before it is sent. A HEAD is small: no body comes back to measure. */
  requestClass(r: RequestFacts): RequestClass {
    if (r.method === 'HEAD') return 'small';
    if ((r.bodyBytes ?? 0) >= BULK_MIN_BYTES || r.hasRange) return 'bulk';
    const path = r.target.split('?', 1)[0]!;
    if (BULK_SUFFIX.test(path)) return 'bulk';
    return (this.sizes.get(`${r.method} ${r.target}`) ?? 0) >= BULK_MIN_BYTES ? 'bulk' : 'small';
  }

  /**
   * Picks the path for a request of class `cls`, counts it, keeps `preferred`; `fallback`: the default path (the
   * relay when the channel goes through TURN). A small request takes it (choosing by time to the head made no
   * page load faster: docs/speed-ledger.md). Through TURN bulk goes over P2P only once measured faster, never
   * probed there (through TURN it may crawl: 0.4 MB/s measured).
   */
  choose(cls: RequestClass, fallback: PathName = 'p2p'): Decision {
    const d: Decision = cls === 'small' ? { path: fallback, why: 'default' } : fallback === 'relay' ? this.bulkThroughTurn() : this.decideBulk();
    if (d.why !== 'probe') this.preferred[cls] = d.path;
    return d;
  }

  /** The relay unless both paths have a bulk figure and P2P's is higher by SWITCH_MARGIN. */
  private bulkThroughTurn(): Decision {
    const { p2p, relay } = this.figures;
    const p2pBetter = p2p.bytesPerS !== undefined && relay.bytesPerS !== undefined && p2p.bytesPerS > relay.bytesPerS * SWITCH_MARGIN;
    return p2pBetter ? { path: 'p2p', why: 'faster' } : { path: 'relay', why: 'default' };
  }

  private decideBulk(): Decision {
    const n = ++this.bulkSeen;
    const [mine, theirs] = [this.figures.p2p.bytesPerS, this.figures.relay.bytesPerS];
    if (theirs === undefined)
      return mine !== undefined && n >= PROBE_AFTER && !this.p2pBulkEnough() ? { path: 'relay', why: 'probe' } : { path: 'p2p', why: 'default' };
    if (mine === undefined) return { path: 'p2p', why: n >= PROBE_AFTER ? 'probe' : 'default' };
    const relayBetter = theirs > mine * SWITCH_MARGIN;
    const best: PathName = relayBetter ? 'relay' : 'p2p';
    // Refresh the losing path's figure now and then; P2P's is not refreshed while its rate is enough.
    if (n % REPROBE_EVERY === 0 && (best === 'relay' || !this.p2pBulkEnough())) return { path: best === 'p2p' ? 'relay' : 'p2p', why: 'probe' };
    return { path: best, why: relayBetter ? 'faster' : 'default' };
  }

  /**
   * The path for an upload: the one bulk downloads take, never a probe (20 MiB
   * over a lossy P2P at 0.2 MB/s is 100 s). With the relay as `fallback` (a
   * channel through TURN), the relay unless P2P's bulk figure is the higher one.
   */
  chooseUpload(fallback: PathName = 'p2p'): Decision {
    if (fallback === 'relay') return this.bulkThroughTurn();
    const path = this.preferred.bulk;
    return { path, why: path === 'relay' ? 'faster' : 'default' };
  }

  /** Whether a large body should be raced on both paths: the relay has no bulk figure yet, and P2P none that is enough. */
  wantsRace(): boolean {
    return this.figures.relay.bytesPerS === undefined && !this.p2pBulkEnough();
  }

  private p2pBulkEnough(): boolean {
    return (this.figures.p2p.bytesPerS ?? 0) >= P2P_BULK_ENOUGH_BYTES_PER_S;
  }

  /** A race's outcome: each path's rate (0: no sample) becomes a bulk figure, and bulk takes the winner's path; says if that changed it. */
  recordRace(bytesPerS: Record<PathName, number>, winner: PathName): boolean {
    for (const path of ['p2p', 'relay'] as const) if (bytesPerS[path] > 0) this.figures[path].bytesPerS = ewma(this.figures[path].bytesPerS, bytesPerS[path]);
    const changed = this.preferred.bulk !== winner;
    this.preferred.bulk = winner;
    return changed;
  }

  /** A request leaves on P2P: whether it is alone there (its time will measure the path, not a queue). Pair with `finished`. */
  started(): boolean {
    return this.inFlight++ === 0;
  }

  /**
   * A request the Service Worker answers, from its fetch event on until its
   * head (a burst's fetch events all come before any leaves on a path): returns
   * the release, to call once (more calls do nothing).
   */
  take(): () => void {
    this.taken++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken--;
    };
  }

  /** Requests a new one would share P2P with: in flight on P2P, or taken; `selfTaken`: the asking one is among those taken. */
  othersInFlight(selfTaken: boolean): number {
    return Math.max(this.inFlight, this.taken - (selfTaken ? 1 : 0));
  }

  /** The P2P request's head arrived, or it failed. */
  finished(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** A small P2P request's time to its head; `at`: when it ended (any steady clock); `alone`: what `started` said. */
  recordHead(cls: RequestClass, ms: number, at: number, alone = true): void {
    if (cls !== 'small' || !alone || !Number.isFinite(ms) || ms < 0) return;
    const recent = this.recentRtts;
    recent.push([at, ms]);
    while (recent.length > MAX_RTT_SAMPLES || recent[0]![0] < at - RTT_WINDOW_MS) recent.shift();
    this.lossy?.lone(
      ms,
      recent.map(([, t]) => t),
    );
  }

  /** A response body finished: `bytes` in `ms` (head to end) on `path`. Remembers the URL's size; a bulk body is a throughput sample. */
  recordBody(path: PathName, method: string, target: string, bytes: number, ms: number): void {
    const key = `${method} ${target}`;
    this.sizes.delete(key);
    this.sizes.set(key, bytes);
    if (this.sizes.size > MAX_REMEMBERED_URLS) this.sizes.delete(this.sizes.keys().next().value!);
    if (bytes >= BULK_MIN_BYTES && ms > 0) this.figures[path].bytesPerS = ewma(this.figures[path].bytesPerS, (bytes * 1000) / ms);
  }
}
