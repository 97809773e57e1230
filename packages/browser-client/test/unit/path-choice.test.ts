import { BULK_MIN_BYTES } from '../../src/shared/constants';
import {
  P2P_BULK_ENOUGH_BYTES_PER_S,
  PathChooser,
  PROBE_AFTER,
  REPROBE_EVERY,
  RTT_WINDOW_MS,
  type PathFigures,
  type RequestClass,
} from '../../src/sw/path-choice';

const MiB = 1024 * 1024;

function chooser(p2p: PathFigures, relay: PathFigures, alreadySeen = PROBE_AFTER): PathChooser {
  const c = new PathChooser();
  Object.assign(c.figures.p2p, p2p);
  Object.assign(c.figures.relay, relay);
  // Past the first requests of each class (the probe decisions are tested on their own).
  for (let i = 0; i < alreadySeen; i++) {
    c.choose('small');
    c.choose('bulk');
  }
  return c;
}

describe('request classes', () => {
  it.each([
    [{ method: 'GET', target: '/api/hello', hasRange: false }, 'small'],
    [{ method: 'POST', target: '/upload', bodyBytes: BULK_MIN_BYTES, hasRange: false }, 'bulk'],
    [{ method: 'POST', target: '/form', bodyBytes: 2_000, hasRange: false }, 'small'],
    [{ method: 'GET', target: '/video', hasRange: true }, 'bulk'],
    [{ method: 'GET', target: '/media/clip.MP4?v=2', hasRange: false }, 'bulk'],
    [{ method: 'GET', target: '/dist/app.wasm', hasRange: false }, 'bulk'],
    [{ method: 'GET', target: '/page?file=a.zip', hasRange: false }, 'small'],
    // No body comes back: a HEAD can never be a bulk sample, nor a probe of the relay's bulk rate.
    [{ method: 'HEAD', target: '/media/clip.mp4', hasRange: false }, 'small'],
  ] as const)('%p is %p', (facts, cls) => {
    expect(new PathChooser().requestClass(facts)).toBe(cls);
  });

  it('classes a URL that answered with a large body before as bulk, and forgets it once it answers small', () => {
    const c = new PathChooser();
    const facts = { method: 'GET', target: '/bytes?n=5', hasRange: false };
    c.recordBody('p2p', 'GET', '/bytes?n=5', 5 * MiB, 500);
    expect(c.requestClass(facts)).toBe('bulk');
    c.recordBody('p2p', 'GET', '/bytes?n=5', 10, 1);
    expect(c.requestClass(facts)).toBe('small');
  });
});

describe('path choice from measurements', () => {
  it.each<[string, RequestClass, PathFigures, PathFigures, 'p2p' | 'relay']>([
    ['bulk: relay 3× faster (loopback / LAN-side server)', 'bulk', { bytesPerS: 10 * MiB }, { bytesPerS: 30 * MiB }, 'relay'],
    ['bulk: P2P faster (far server)', 'bulk', { bytesPerS: 10 * MiB }, { bytesPerS: 3 * MiB }, 'p2p'],
    ['bulk: within the margin stays P2P', 'bulk', { bytesPerS: 10 * MiB }, { bytesPerS: 12 * MiB }, 'p2p'],
    ['small stays on P2P even when the relay is faster for bulk', 'small', { bytesPerS: 10 * MiB }, { bytesPerS: 40 * MiB }, 'p2p'],
  ])('%s', (_name, cls, p2p, relay, path) => {
    expect(chooser(p2p, relay).choose(cls).path).toBe(path);
  });

  it('starts on P2P, probes the relay once P2P has a figure, then keeps the faster path', () => {
    const c = new PathChooser();
    expect(c.choose('bulk')).toEqual({ path: 'p2p', why: 'default' });
    c.recordBody('p2p', 'GET', '/a', 4 * MiB, 4000); // 1 MiB/s: below P2P_BULK_ENOUGH_BYTES_PER_S
    expect(c.choose('bulk')).toEqual({ path: 'relay', why: 'probe' });
    c.recordBody('relay', 'GET', '/a', 4 * MiB, 100); // 40 MiB/s
    expect(c.choose('bulk')).toEqual({ path: 'relay', why: 'faster' });
    // The small class has its own figures: nothing measured yet, so P2P.
    expect(c.choose('small')).toEqual({ path: 'p2p', why: 'default' });
  });

  it("sends small requests the default way, never as a probe, whatever P2P's times", () => {
    const c = new PathChooser();
    for (let i = 0; i < 10; i++) c.recordHead('small', 300, i);
    const paths = Array.from({ length: 2 * REPROBE_EVERY }, () => c.choose('small'));
    expect(new Set(paths.map((d) => `${d.path} ${d.why}`))).toEqual(new Set(['p2p default']));
  });

  it('keeps the preferred path per class (what the badge shows), unchanged by probes', () => {
    const c = new PathChooser();
    c.recordBody('p2p', 'GET', '/a', 4 * MiB, 4000);
    c.choose('bulk');
    c.choose('bulk'); // the relay probe
    expect(c.preferred).toEqual({ small: 'p2p', bulk: 'p2p' });
    c.recordBody('relay', 'GET', '/a', 4 * MiB, 100);
    c.choose('bulk');
    expect(c.preferred).toEqual({ small: 'p2p', bulk: 'relay' });
  });

  it('sends every REPROBE_EVERY-th request of a class the other way, to notice a change', () => {
    const c = chooser({ bytesPerS: 10 * MiB }, { bytesPerS: 40 * MiB }, 0);
    const paths = Array.from({ length: REPROBE_EVERY }, () => c.choose('bulk').path);
    expect(paths.filter((p) => p === 'p2p')).toHaveLength(1);
    expect(paths[REPROBE_EVERY - 1]).toBe('p2p');
  });

  it('races large bodies until the relay has a bulk figure, then sends bulk the way the race went', () => {
    const c = new PathChooser();
    expect(c.wantsRace()).toBe(true);
    expect(c.recordRace({ p2p: 3 * MiB, relay: 9 * MiB }, 'relay')).toBe(true);
    expect(c.wantsRace()).toBe(false);
    expect(c.preferred.bulk).toBe('relay');
    c.recordBody('relay', 'GET', '/big', 20 * MiB, 0);
    expect(c.requestClass({ method: 'GET', target: '/big', hasRange: false })).toBe('bulk');
    expect(c.choose('bulk')).toEqual({ path: 'relay', why: 'faster' });
  });

  it('sends uploads over P2P until bulk downloads have a path, then the way they go, never as a probe', () => {
    const c = new PathChooser();
    expect(c.chooseUpload()).toEqual({ path: 'p2p', why: 'default' });
    c.recordRace({ p2p: 0.4 * MiB, relay: 9 * MiB }, 'relay');
    const uploads = Array.from({ length: 2 * REPROBE_EVERY }, () => c.chooseUpload());
    expect(new Set(uploads.map((d) => `${d.path} ${d.why}`))).toEqual(new Set(['relay faster']));
    c.recordRace({ p2p: 30 * MiB, relay: 9 * MiB }, 'p2p');
    expect(c.chooseUpload()).toEqual({ path: 'p2p', why: 'default' });
  });

  it('never measures the relay for bulk while P2P moves bulk fast enough: no race, no probe, no re-probe', () => {
    const c = new PathChooser();
    c.recordRace({ p2p: P2P_BULK_ENOUGH_BYTES_PER_S * 1.5, relay: 0 }, 'p2p');
    expect(c.wantsRace()).toBe(false);
    const paths = Array.from({ length: 2 * REPROBE_EVERY }, () => c.choose('bulk'));
    expect(new Set(paths.map((d) => `${d.path} ${d.why}`))).toEqual(new Set(['p2p default']));
    expect(c.chooseUpload()).toEqual({ path: 'p2p', why: 'default' });
    // Once both have figures (a race when P2P was slower), P2P fast enough is not re-measured against the relay either.
    const d = chooser({ bytesPerS: 2 * P2P_BULK_ENOUGH_BYTES_PER_S }, { bytesPerS: P2P_BULK_ENOUGH_BYTES_PER_S }, 0);
    expect(new Set(Array.from({ length: 2 * REPROBE_EVERY }, () => d.choose('bulk').path))).toEqual(new Set(['p2p']));
    // A slower P2P is raced and probed as before.
    const slow = new PathChooser();
    slow.recordRace({ p2p: P2P_BULK_ENOUGH_BYTES_PER_S / 2, relay: 0 }, 'p2p');
    expect(slow.wantsRace()).toBe(true);
  });

  it('keeps racing when the relay carried nothing in a race (no figure from a failed relay)', () => {
    const c = new PathChooser();
    expect(c.recordRace({ p2p: 3 * MiB, relay: 0 }, 'p2p')).toBe(false);
    expect([c.wantsRace(), c.figures.p2p.bytesPerS]).toEqual([true, 3 * MiB]);
  });

  it('takes only bulk bodies as throughput samples', () => {
    const c = new PathChooser();
    c.recordBody('relay', 'GET', '/small', 10_000, 1);
    expect(c.figures.relay).toEqual({});
    c.recordBody('relay', 'GET', '/big', 4 * MiB, 100);
    expect(c.figures.relay.bytesPerS).toBeGreaterThan(0);
  });
});

describe('the lone P2P times the stall verdict reads', () => {
  const told = () => {
    const times: number[][] = [];
    return { times, lossy: { lone: (_ms: number, window: readonly number[]) => void times.push([...window]) } };
  };

  it('tells only lone small requests, with the times of the last RTT_WINDOW_MS', () => {
    const { times, lossy } = told();
    const c = new PathChooser(lossy);
    // A burst of 300 modules over P2P: all leave at once, each waits behind the ones before it; only the first was alone.
    const alone = Array.from({ length: 300 }, () => c.started());
    for (let i = 0; i < 300; i++) {
      c.finished();
      c.recordHead('small', 40 + i * 3, 1_000 + i * 7, alone[i]);
    }
    expect(alone.filter(Boolean)).toHaveLength(1);
    c.recordHead('bulk', 5, 2_000);
    c.recordHead('small', 50, 2_000);
    c.recordHead('small', 60, 1_000 + RTT_WINDOW_MS + 1);
    expect(times).toEqual([[40], [40, 50], [50, 60]]);
  });
});

describe('a channel through TURN: the relay first', () => {
  it('sends small requests over the relay, never probing P2P', () => {
    const c = new PathChooser();
    const small = Array.from({ length: 2 * REPROBE_EVERY }, () => c.choose('small', 'relay'));
    expect(new Set(small.map((d) => `${d.path} ${d.why}`))).toEqual(new Set(['relay default']));
    expect(c.preferred.small).toBe('relay');
  });

  it('keeps bulk and uploads on the relay without ever probing P2P, unless P2P has the higher bulk figure', () => {
    const c = new PathChooser();
    const bulk = Array.from({ length: 2 * REPROBE_EVERY }, () => c.choose('bulk', 'relay').path);
    expect(new Set(bulk)).toEqual(new Set(['relay']));
    expect(c.chooseUpload('relay').path).toBe('relay');
    c.recordRace({ p2p: 30 * MiB, relay: 9 * MiB }, 'p2p');
    expect([c.choose('bulk', 'relay').path, c.chooseUpload('relay').path]).toEqual(['p2p', 'p2p']);
  });
});

describe('requests a new one would share P2P with', () => {
  it('counts the requests the Service Worker took until each is released, once', () => {
    const c = new PathChooser();
    const first = c.take();
    const second = c.take();
    expect([c.othersInFlight(false), c.othersInFlight(true)]).toEqual([2, 1]);
    first();
    first();
    expect([c.othersInFlight(false), c.othersInFlight(true)]).toEqual([1, 0]);
    second();
    expect([c.othersInFlight(false), c.othersInFlight(true)]).toEqual([0, 0]);
    // Requests already on P2P count as well.
    c.started();
    expect(c.othersInFlight(true)).toBe(1);
  });
});
