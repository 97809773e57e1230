/** The record of P2P exchanges that reached the app: bounded in count per viewer, in viewers, and in time after an exchange ended. */
import { createExchangeRecord, EXCHANGE_KEEP_MS, EXCHANGE_VIEWERS, EXCHANGES_PER_VIEWER } from '../../src/forward/exchange-record';

const id = (n: number) => `id${String(n).padStart(20, '0')}`;

describe('exchange record', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000));

  it('keeps an exchange while it lasts, and for EXCHANGE_KEEP_MS after it ended', () => {
    const r = createExchangeRecord(now);
    r.began('v', id(1));
    clock += 10 * EXCHANGE_KEEP_MS;
    expect(r.reached(id(1))).toBe(true);
    r.ended('v', id(1));
    clock += EXCHANGE_KEEP_MS;
    expect(r.reached(id(1))).toBe(true);
    clock += 1;
    expect(r.reached(id(1))).toBe(false);
    expect(r.reached(id(2))).toBe(false);
  });

  it('ends every exchange in flight at once when the host died (endAll)', () => {
    const r = createExchangeRecord(now);
    r.began('v', id(1));
    r.endAll();
    clock += EXCHANGE_KEEP_MS + 1;
    expect(r.reached(id(1))).toBe(false);
  });

  it('forgets the oldest exchange of a viewer past EXCHANGES_PER_VIEWER', () => {
    const r = createExchangeRecord(now);
    for (let n = 0; n <= EXCHANGES_PER_VIEWER; n++) r.began('v', id(n));
    expect(r.reached(id(0))).toBe(false);
    expect(r.reached(id(1))).toBe(true);
    expect(r.reached(id(EXCHANGES_PER_VIEWER))).toBe(true);
  });

  it('forgets the viewer quiet the longest past EXCHANGE_VIEWERS', () => {
    const r = createExchangeRecord(now);
    for (let n = 0; n < EXCHANGE_VIEWERS; n++) r.began(`v${n}`, id(n));
    // The first viewer speaks again: the second is now the one quiet the longest.
    r.began('v0', id(1_000));
    r.began('one more', id(2_000));
    expect(r.reached(id(0))).toBe(true);
    expect(r.reached(id(1))).toBe(false);
    expect(r.reached(id(2_000))).toBe(true);
  });
});
