/**
 * When the next spare P2P host process starts: its start costs CPU, so not
 * while the agent forwards a page load's requests, but once they have been
 * quiet for SPARE_QUIET_MS, and at the latest SPARE_LATEST_MS after a take.
 * The processes are stand-ins: this is the timing rule alone (the e2e suite's
 * badge-states runs the real processes).
 */
import type { IsolatedPeerHost } from '../../src/p2p/isolated-peer-host';
import { createSpareHost, MAX_VIEWERS_PER_HOST, SPARE_LATEST_MS, SPARE_QUIET_MS } from '../../src/p2p/spare-host';

/** A stand-in process: whether it was closed, and how many viewers it has served. */
type StandIn = IsolatedPeerHost & { closed: boolean; viewersServed: number };

function starts() {
  const made: StandIn[] = [];
  const make = () => {
    const h = {
      ended: false,
      closed: false,
      viewersServed: 0,
      close() {
        h.closed = true;
      },
    } as unknown as StandIn;
    made.push(h);
    return h;
  };
  return { made, spares: createSpareHost(make) };
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

describe('the next spare host process', () => {
  it('starts SPARE_QUIET_MS after a take when no request follows', () => {
    const { made, spares } = starts();
    expect(spares.take()).toBe(made[0]);
    jest.advanceTimersByTime(SPARE_QUIET_MS - 1);
    expect(made).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(made).toHaveLength(2);
    expect(spares.current).toBe(made[1]);
    spares.close();
  });

  it('waits while requests keep coming, and starts once they have been quiet for SPARE_QUIET_MS', () => {
    const { made, spares } = starts();
    spares.take();
    for (let i = 0; i < 10; i++) {
      jest.advanceTimersByTime(SPARE_QUIET_MS - 100);
      spares.busy();
    }
    expect(made).toHaveLength(1);
    jest.advanceTimersByTime(SPARE_QUIET_MS);
    expect(made).toHaveLength(2);
    spares.close();
  });

  it('starts SPARE_LATEST_MS after a take however busy the agent stays', () => {
    const { made, spares } = starts();
    spares.take();
    const every = 100;
    for (let t = every; t < SPARE_LATEST_MS; t += every) {
      jest.advanceTimersByTime(every);
      spares.busy();
    }
    expect(made).toHaveLength(1);
    jest.advanceTimersByTime(every);
    expect(made).toHaveLength(2);
    spares.close();
  });

  it('is the process whose viewer left, warm, in place of a new one: the new one ends, and one that waits to start never does', () => {
    const { made, spares } = starts();
    const first = spares.take()!;
    jest.advanceTimersByTime(SPARE_QUIET_MS);
    expect(made).toHaveLength(2);
    expect(spares.recycle(first)).toBe(true);
    expect({ spare: spares.current === first, freshClosed: made[1]!.closed }).toEqual({ spare: true, freshClosed: true });
    // Taken again, its viewer leaves before the next spare's start: that start is called off.
    expect(spares.take()).toBe(first);
    expect(spares.recycle(first)).toBe(true);
    jest.advanceTimersByTime(SPARE_LATEST_MS);
    expect(made).toHaveLength(2);
    expect(spares.current).toBe(first);
    spares.close();
  });

  it('is never a process that ended, nor one that has served MAX_VIEWERS_PER_HOST viewers', () => {
    const { made, spares } = starts();
    const worn = spares.take() as StandIn;
    worn.viewersServed = MAX_VIEWERS_PER_HOST;
    expect(spares.recycle(worn)).toBe(false);
    const ended = { ...made[0]!, ended: true } as StandIn;
    expect(spares.recycle(ended)).toBe(false);
    spares.close();
  });
});
