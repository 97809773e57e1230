/**
 * A large GET with no bulk rate known on both paths runs on P2P first; too slow, the relay fetches it too,
 * both feeding one stream, until one is clearly ahead. Only same-bytes bodies are raced (resumption assumes
 * it). docs/browser-client.md §Routing rules, "The first large download may be raced".
 */
import { header } from '../shared/messages';
import { P2P_BULK_ENOUGH_BYTES_PER_S, SWITCH_MARGIN, type PathName } from './path-choice';

/** A body at least this large may be raced: it takes seconds on a slow path, and the race costs at most RACE_DECIDE_BYTES on the losing path. */
export const RACE_MIN_BYTES = 4 * 1024 * 1024;
/** The race ends when either path has carried this many bytes: long enough for a relay 160 ms away to leave TCP slow start. */
const RACE_DECIDE_BYTES = 8 * 1024 * 1024;
/** …or after this long, on what each path carried so far (two slow paths: the choice must not wait for the whole body). */
const RACE_MAX_MS = 4_000;
/**
 * …or as soon as the relay has carried RACE_CLEAR_MIN_BYTES and this many
 * times P2P's bytes: the answer cannot turn. Only the relay ends it early:
 * P2P ahead early says little, the relay is still in its slow start.
 */
const RACE_CLEAR_RATIO = 4;
/** See RACE_CLEAR_RATIO: 1 MiB, past the relay's first round trips. */
const RACE_CLEAR_MIN_BYTES = 1024 * 1024;

/** P2P carries the body alone until it has carried this many bytes… */
const RACE_SOLO_BYTES = 2 * 1024 * 1024;
/** …or for this long, ms (a slow P2P must not delay the relay's start for long); then its rate decides whether the relay races it. */
const RACE_SOLO_MS = 1_000;

type Head = { status: number; headers: ReadonlyArray<readonly [string, string]> };

/** What onHead (router.ts) knows of a P2P response when it asks whether to race it. */
export interface RaceFacts {
  method: string;
  status: number;
  /** The declared body length (NaN when none). */
  length: number;
  range: boolean;
  /** A navigation (its document is never raced). */
  navigate: boolean;
  /** The path chooser wants a race (PathChooser.wantsRace: no relay bulk figure, P2P's not enough). */
  wanted: boolean;
  /** The race is on (the server's P2P_BULK_RACE, sw/switches.ts); off, the body stays on the path it took. */
  on: boolean;
}

/** Whether a P2P response is raced on both paths: a whole 200 to a GET of RACE_MIN_BYTES or more, while the chooser wants it. */
export function raceThis(f: RaceFacts): boolean {
  return f.on && f.wanted && f.method === 'GET' && f.status === 200 && f.length >= RACE_MIN_BYTES && !f.range && !f.navigate;
}

/** Whether `p2p` and `relay` are the same body, byte for byte, as far as their heads can tell. */
export function sameBody(p2p: Head, relay: Head): boolean {
  if (p2p.status !== 200 || relay.status !== 200) return false;
  const length = header(p2p.headers, 'content-length');
  if (length === undefined || length !== header(relay.headers, 'content-length')) return false;
  for (const h of [p2p, relay]) {
    const coding = header(h.headers, 'content-encoding')?.trim().toLowerCase();
    if (coding && coding !== 'identity') return false;
  }
  for (const validator of ['etag', 'last-modified']) {
    const [a, b] = [header(p2p.headers, validator), header(relay.headers, validator)];
    if (a !== undefined && b !== undefined && a !== b) return false;
  }
  return true;
}

interface RaceResult {
  winner: PathName;
  /** The whole body, from byte 0: what was queued during the race, then the winner's stream. */
  body: ReadableStream<Uint8Array>;
  /** Bytes per second each path carried during the race (0: nothing, or it failed). */
  bytesPerS: Record<PathName, number>;
  /** Why the race ended: 'fast' (no relay leg), a bound ('bytes', 'time', 'clear'), 'done' (a path finished), 'failed'. */
  ended: 'fast' | 'bytes' | 'time' | 'clear' | 'done' | 'failed';
}

export interface RaceOptions {
  /** RACE_SOLO_BYTES; with soloMs 0 the relay starts at once. */
  soloBytes?: number;
  soloMs?: number;
  enoughBytesPerS?: number;
  decideBytes?: number;
  maxMs?: number;
  margin?: number;
  now?: () => number;
}

interface Leg {
  name: PathName;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes this path delivered so far (its offset in the body). */
  offset: number;
  done: boolean;
  failed: boolean;
}

/**
 * Races `p2p` (a body already flowing) against the relay's, which `startRelay` fetches (null when it cannot) only if
 * P2P alone is not fast enough. Resolves once the winner is known; `signal` cancels both.
 */
export async function raceBodies(
  p2p: ReadableStream<Uint8Array>,
  startRelay: () => Promise<{ head: Head; body: ReadableStream<Uint8Array> } | null>,
  p2pHead: Head,
  signal: AbortSignal,
  options: RaceOptions = {},
): Promise<RaceResult> {
  const soloBytes = options.soloBytes ?? RACE_SOLO_BYTES;
  const soloMs = options.soloMs ?? RACE_SOLO_MS;
  const enough = options.enoughBytesPerS ?? P2P_BULK_ENOUGH_BYTES_PER_S;
  const decideBytes = options.decideBytes ?? RACE_DECIDE_BYTES;
  const maxMs = options.maxMs ?? RACE_MAX_MS;
  const margin = options.margin ?? SWITCH_MARGIN;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const queue: Uint8Array[] = [];
  /** Bytes of the body queued or read so far: the next byte anyone supplies is at this offset. */
  let frontier = 0;
  const legs: Record<PathName, Leg> = {
    p2p: { name: 'p2p', reader: p2p.getReader(), offset: 0, done: false, failed: false },
    relay: { name: 'relay', offset: 0, done: false, failed: false },
  };
  let decide!: (ended: RaceResult['ended']) => void;
  const decided = new Promise<RaceResult['ended']>((resolve) => (decide = resolve));
  let over = false;
  let winner: PathName | undefined;
  const timer = setTimeout(() => decide('time'), maxMs);
  const onAbort = () => decide('failed');
  signal.addEventListener('abort', onAbort);

  /** Takes in one chunk from `leg`: the part past the frontier is new, the rest a copy. */
  const take = (leg: Leg, chunk: Uint8Array) => {
    const end = leg.offset + chunk.length;
    if (end > frontier) {
      queue.push(chunk.subarray(chunk.length - (end - frontier)));
      frontier = end;
    }
    leg.offset = end;
  };

  const pump = async (leg: Leg) => {
    try {
      for (;;) {
        if (over) return;
        const { done, value } = await leg.reader!.read();
        if (over) {
          // A read in flight at the decision: the winner's stream is handed on, so its chunk is kept; the loser's is dropped.
          if (leg.name !== winner) return;
          if (value) take(leg, value);
          if (done) leg.done = true;
          return;
        }
        if (done) {
          leg.done = true;
          return decide('done');
        }
        take(leg, value);
        if (leg.name === 'p2p') soloCheck();
        if (leg.offset >= decideBytes) return decide('bytes');
        if (leg.name === 'relay' && leg.offset >= RACE_CLEAR_MIN_BYTES && leg.offset >= legs.p2p.offset * RACE_CLEAR_RATIO) return decide('clear');
      }
    } catch {
      leg.failed = true;
      if (!over) decide('failed');
    }
  };

  let relayPump: Promise<void> = Promise.resolve();
  let relayStarted = false;
  let soloTimer: ReturnType<typeof setTimeout> | undefined;
  /** P2P alone so far: once past RACE_SOLO_BYTES or RACE_SOLO_MS, fast enough ends the race, slower starts the relay. */
  const soloCheck = () => {
    if (relayStarted || over) return;
    const elapsed = now() - started;
    if (legs.p2p.offset < soloBytes && elapsed < soloMs) return;
    if ((legs.p2p.offset * 1000) / Math.max(1, elapsed) >= enough) return decide('fast');
    startRelayLeg();
  };
  const startRelayLeg = () => {
    relayStarted = true;
    if (soloTimer !== undefined) clearTimeout(soloTimer);
    // Called now; a throw becomes a rejection.
    void new Promise<{ head: Head; body: ReadableStream<Uint8Array> } | null>((resolve) => resolve(startRelay())).then(
      (r) => {
        if (over) return void r?.body.cancel().catch(() => undefined);
        if (!r || !sameBody(p2pHead, r.head)) {
          void r?.body.cancel().catch(() => undefined);
          legs.relay.failed = true;
          return decide('failed');
        }
        legs.relay.reader = r.body.getReader();
        relayPump = pump(legs.relay);
      },
      () => {
        legs.relay.failed = true;
        decide('failed');
      },
    );
  };
  if (soloMs <= 0) startRelayLeg();
  else soloTimer = setTimeout(soloCheck, soloMs);
  const p2pPump = pump(legs.p2p);

  const ended = await decided;
  over = true;
  clearTimeout(timer);
  if (soloTimer !== undefined) clearTimeout(soloTimer);
  signal.removeEventListener('abort', onAbort);
  const ms = Math.max(1, now() - started);
  const bytesPerS = { p2p: (legs.p2p.offset * 1000) / ms, relay: (legs.relay.offset * 1000) / ms };
  const usable = (l: Leg) => l.reader !== undefined && !l.failed && !signal.aborted;
  // Without a flowing relay, P2P carries on (a P2P failure then surfaces from its stream, where the router's resumption takes over).
  if (!usable(legs.relay)) winner = 'p2p';
  else if (!usable(legs.p2p)) winner = 'relay';
  else if (legs.relay.done && legs.relay.offset >= frontier) winner = 'relay';
  else if (legs.p2p.done && legs.p2p.offset >= frontier) winner = 'p2p';
  else winner = legs.relay.offset > legs.p2p.offset * margin ? 'relay' : 'p2p';
  const won = winner;
  const loser = legs[won === 'p2p' ? 'relay' : 'p2p'];
  void loser.reader?.cancel().catch(() => undefined);
  if (signal.aborted) void legs[won].reader?.cancel().catch(() => undefined);
  // A read in flight on the winner finishes into the queue before its stream is handed on.
  await (won === 'p2p' ? p2pPump : relayPump);
  return { winner: won, body: continuation(queue, legs[won], frontier), bytesPerS, ended };
}

/** The queued bytes, then the winner's stream from the frontier on (its copies of queued bytes skipped). */
function continuation(queue: Uint8Array[], leg: Leg, queuedTo: number): ReadableStream<Uint8Array> {
  let frontier = queuedTo;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const queued = queue.shift();
        if (queued) return controller.enqueue(queued);
        if (leg.done || !leg.reader) return controller.close();
        for (;;) {
          const { done, value } = await leg.reader.read();
          if (done) return controller.close();
          const end = leg.offset + value.length;
          leg.offset = end;
          if (end <= frontier) continue;
          const fresh = value.subarray(value.length - (end - frontier));
          frontier = end;
          return controller.enqueue(fresh);
        }
      },
      cancel(reason) {
        return leg.reader?.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
