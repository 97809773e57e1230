/**
 * When the next spare P2P host process starts: its start costs CPU, so not
 * while the agent forwards a page load's requests, but once they have been
 * quiet for SPARE_QUIET_MS, at the latest SPARE_LATEST_MS after a take, and
 * never within SPARE_MIN_INTERVAL_MS of the last start.
 * The processes are stand-ins: this is the timing rule alone (the e2e suite's
 * badge-states runs the real processes).
 */
import type { IsolatedPeerHost } from '../../src/p2p/isolated-peer-host';
import { createSpareHost, SPARE_LATEST_MS, SPARE_MIN_INTERVAL_MS, SPARE_QUIET_MS } from '../../src/p2p/spare-host';

function starts() {
  const made: IsolatedPeerHost[] = [];
  const make = () => {
    const h = { ended: false, close: () => undefined } as unknown as IsolatedPeerHost;
    made.push(h);
    return h;
  };
  const spares = createSpareHost(make);
  // Past the first spare's start: the takes below are not held back by the interval.
  jest.advanceTimersByTime(SPARE_MIN_INTERVAL_MS);
  return { made, spares };
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

  it('comes no sooner than SPARE_MIN_INTERVAL_MS after the last start, however quiet: page loads in a row start one spare', () => {
    const { made, spares } = starts();
    spares.take();
    jest.advanceTimersByTime(SPARE_QUIET_MS);
    expect(made).toHaveLength(2);
    // The next page load takes that spare as it starts: its successor waits for the interval, not only for the quiet.
    expect(spares.take()).toBe(made[1]);
    jest.advanceTimersByTime(SPARE_MIN_INTERVAL_MS - 1);
    expect(made).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(made).toHaveLength(3);
    spares.close();
  });
});
