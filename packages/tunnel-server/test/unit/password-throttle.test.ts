/**
 * The password throttle's counting: which addresses share a bucket (IPv6 per
 * /64), the per-source and per-session limits, the window, and the bounds on
 * the sources and networks it remembers.
 */
import {
  createPasswordThrottle,
  MAX_PASSWORD_FAILURES_PER_SESSION,
  MAX_PASSWORD_FAILURES_PER_SOURCE,
  MAX_TRACKED_SOURCES,
  PASSWORD_ATTEMPT_WINDOW_MS,
} from '../../src/access/password-throttle';
describe('createPasswordThrottle', () => {
  const t0 = 5_000_000;

  it('holds one source after its limit, counts its whole /64 as one, and lets it go when the window ends', () => {
    const t = createPasswordThrottle();
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SOURCE; i++) {
      expect(t.retryAfterS(`2001:db8:1:2::${i + 1}`, t0)).toBe(0);
      t.failed(`2001:db8:1:2::${i + 1}`, t0);
    }
    expect(t.retryAfterS('2001:db8:1:2::ffff', t0 + 30_000)).toBe(30);
    expect(t.retryAfterS('2001:db8:1:3::1', t0 + 30_000)).toBe(0);
    expect(t.retryAfterS('2001:db8:1:2::1', t0 + PASSWORD_ATTEMPT_WINDOW_MS)).toBe(0);
  });

  it('once the session reached its limit, holds every source that failed and gives a new source one try', () => {
    const t = createPasswordThrottle();
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SESSION; i++) t.failed(`10.1.${i}.1`, t0);
    expect(t.retryAfterS('10.1.0.1', t0 + 1)).toBe(60);
    expect(t.retryAfterS('192.0.2.200', t0 + 1)).toBe(0);
    t.failed('192.0.2.200', t0 + 1);
    expect(t.retryAfterS('192.0.2.200', t0 + 2)).toBe(60);
    expect(t.retryAfterS('192.0.2.201', t0 + 2)).toBe(0);
  });

  it('remembers a bounded number of sources; failures from the rest count per network, and beyond as many networks in one bucket', () => {
    const t = createPasswordThrottle({ perSource: 2, perSession: 1_000, trackedSources: 2 });
    t.failed('192.0.2.1', t0);
    t.failed('192.0.2.2', t0);
    // Two sources tracked: these two land in their /24's bucket together.
    t.failed('192.0.2.3', t0);
    t.failed('192.0.2.4', t0);
    expect(t.retryAfterS('192.0.2.5', t0)).toBe(60);
    expect(t.retryAfterS('192.0.2.1', t0)).toBe(0);
    expect(t.retryAfterS('198.51.100.1', t0)).toBe(0);
    // A second network is tracked; a third and a fourth share the last bucket.
    t.failed('198.51.100.1', t0);
    t.failed('203.0.113.1', t0);
    t.failed('203.0.114.1', t0);
    expect(t.retryAfterS('203.0.115.1', t0)).toBe(60);
    expect(t.retryAfterS('198.51.100.2', t0)).toBe(0);
  });

  it('gives a new address on another network its one try after 1 024 /64s of one IPv6 /54 guessed and more guessed beyond them', () => {
    const t = createPasswordThrottle();
    // 2001:db8:ab:0::/64 … 2001:db8:ab:3ff::/64: one /54, every source the throttle tracks.
    for (let i = 0; i < MAX_TRACKED_SOURCES; i++) t.failed(`2001:db8:ab:${i.toString(16)}::1`, t0);
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SOURCE; i++) t.failed(`2001:db8:ab:${(0x400 + i).toString(16)}::1`, t0);
    // The guessers' /56 waits, a reviewer elsewhere does not.
    expect(t.retryAfterS('2001:db8:ab:4ff::1', t0)).toBe(60);
    expect(t.retryAfterS('2001:db8:cd::1', t0)).toBe(0);
    expect(t.retryAfterS('192.0.2.1', t0)).toBe(0);
  });

  it(`defaults to ${MAX_TRACKED_SOURCES} tracked sources, and as many networks beyond them`, () => {
    const t = createPasswordThrottle({ perSession: 1_000_000 });
    for (let i = 0; i < MAX_TRACKED_SOURCES; i++) t.failed(`10.${i >> 8}.${i & 255}.1`, t0);
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SOURCE; i++) t.failed(`172.16.0.${i + 1}`, t0);
    expect(t.retryAfterS('172.16.0.200', t0)).toBe(60);
    expect(t.retryAfterS('172.31.0.1', t0)).toBe(0);
    expect(t.retryAfterS('10.0.0.1', t0)).toBe(0);
    for (let i = 1; i < MAX_TRACKED_SOURCES; i++) t.failed(`11.${i >> 8}.${i & 255}.1`, t0);
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SOURCE; i++) t.failed(`172.17.${i}.1`, t0);
    expect(t.retryAfterS('172.31.0.1', t0)).toBe(60);
  });
});
