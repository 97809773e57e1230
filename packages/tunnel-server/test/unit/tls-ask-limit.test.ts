/**
 * The TLS permission check's allowance per address: a burst, a refill rate,
 * loopback uncounted, and a bounded number of addresses remembered.
 */
import { createTlsAskLimit, MAX_TLS_ASK_SOURCES, TLS_ASK_BURST, TLS_ASK_PER_SECOND } from '../../src/routing/tls-permission';

/** How many of `n` asks from `address` pass at the clock's current time. */
const passing = (limit: ReturnType<typeof createTlsAskLimit>, address: string, n: number) =>
  Array.from({ length: n }, () => limit(address)).filter(Boolean).length;

describe('createTlsAskLimit', () => {
  it('lets an address ask a burst, then at the refill rate, counting an IPv6 /64 as one', () => {
    let t = 1_000_000;
    const limit = createTlsAskLimit(() => t);
    expect(passing(limit, '2001:db8:1:2::1', TLS_ASK_BURST)).toBe(TLS_ASK_BURST);
    expect(limit('2001:db8:1:2::ffff')).toBe(false);
    expect(limit('2001:db8:1:3::1')).toBe(true);
    t += 1_000;
    expect(passing(limit, '2001:db8:1:2::1', 100)).toBe(TLS_ASK_PER_SECOND);
  });

  it('never counts loopback, the TLS terminator beside the server', () => {
    const limit = createTlsAskLimit(() => 0);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.3.2.1']) expect(passing(limit, address, 500)).toBe(500);
  });

  it('remembers a bounded number of addresses: refilled ones are forgotten, and beyond the bound the rest share one bucket', () => {
    let t = 0;
    const limit = createTlsAskLimit(() => t);
    for (let i = 0; i < MAX_TLS_ASK_SOURCES; i++) limit(`10.${i >> 8}.${i & 255}.1`);
    // All tracked: a new address's asks count in the shared bucket.
    expect(passing(limit, '192.0.2.1', TLS_ASK_BURST + 1)).toBe(TLS_ASK_BURST);
    expect(limit('192.0.2.2')).toBe(false);
    // Once every bucket has refilled, they are forgotten and a new address has its own again.
    t += (TLS_ASK_BURST / TLS_ASK_PER_SECOND) * 1000;
    expect(passing(limit, '192.0.2.2', TLS_ASK_BURST + 1)).toBe(TLS_ASK_BURST);
  });
});
