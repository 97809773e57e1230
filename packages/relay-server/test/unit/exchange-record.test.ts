/** The agent's record of exchanges with an id: the first claim wins; bounded in count per viewer, in viewers, in relayed claims and in time after an exchange ended. */
import { createExchangeRecord, EXCHANGE_KEEP_MS, EXCHANGE_VIEWERS, EXCHANGES_PER_VIEWER } from '../../src/forward/exchange-record';

const id = (n: number) => `id${String(n).padStart(20, '0')}`;

describe('exchange record', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000));

  it('gives an id to its first claim only, P2P or relayed, in either order', () => {
    const r = createExchangeRecord(now);
    expect(r.claim('v', id(1))).toBe(true);
    expect(r.claim(undefined, id(1))).toBe(false);
    expect(r.claim('v', id(1))).toBe(false);
    expect(r.claim(undefined, id(2))).toBe(true);
    expect(r.claim('v', id(2))).toBe(false);
    expect(r.claim('w', id(2))).toBe(false);
  });

  it('keeps a claim while its exchange lasts, and for EXCHANGE_KEEP_MS after it ended', () => {
    const r = createExchangeRecord(now);
    r.claim('v', id(1));
    r.claim(undefined, id(2));
    clock += 10 * EXCHANGE_KEEP_MS;
    expect(r.claim(undefined, id(1))).toBe(false);
    expect(r.claim('v', id(2))).toBe(false);
    r.ended('v', id(1));
    r.ended(undefined, id(2));
    clock += EXCHANGE_KEEP_MS;
    expect(r.claim(undefined, id(1))).toBe(false);
    expect(r.claim('v', id(2))).toBe(false);
    clock += 1;
    expect(r.claim(undefined, id(1))).toBe(true);
    expect(r.claim('v', id(2))).toBe(true);
  });

  it("ends the P2P exchanges in flight of the viewers whose host died (endViewers), not another viewer's nor the relayed ones", () => {
    const r = createExchangeRecord(now);
    r.claim('v', id(1));
    r.claim('w', id(3));
    r.claim(undefined, id(2));
    r.endViewers(['v']);
    clock += EXCHANGE_KEEP_MS + 1;
    expect(r.claim(undefined, id(1))).toBe(true);
    expect(r.claim('v', id(2))).toBe(false);
    expect(r.claim(undefined, id(3))).toBe(false);
  });

  it('forgets the oldest claim of a viewer past EXCHANGES_PER_VIEWER', () => {
    const r = createExchangeRecord(now);
    for (let n = 0; n <= EXCHANGES_PER_VIEWER; n++) r.claim('v', id(n));
    expect(r.claim(undefined, id(0))).toBe(true);
    expect(r.claim(undefined, id(1))).toBe(false);
    expect(r.claim(undefined, id(EXCHANGES_PER_VIEWER))).toBe(false);
  });

  it('forgets the oldest relayed claim past EXCHANGES_PER_VIEWER', () => {
    const r = createExchangeRecord(now);
    for (let n = 0; n <= EXCHANGES_PER_VIEWER; n++) r.claim(undefined, id(n));
    expect(r.claim('v', id(0))).toBe(true);
    expect(r.claim('v', id(1))).toBe(false);
  });

  it('forgets the viewer quiet the longest past EXCHANGE_VIEWERS', () => {
    const r = createExchangeRecord(now);
    for (let n = 0; n < EXCHANGE_VIEWERS; n++) r.claim(`v${n}`, id(n));
    // The first viewer speaks again: the second is now the one quiet the longest.
    r.claim('v0', id(1_000));
    r.claim('one more', id(2_000));
    expect(r.claim(undefined, id(0))).toBe(false);
    expect(r.claim(undefined, id(1))).toBe(true);
    expect(r.claim(undefined, id(2_000))).toBe(false);
  });
});
