/**
 * When the next spare P2P host process starts: its start costs CPU, so not
 * while the agent forwards a page load's requests, but once they have been
 * quiet for SPARE_QUIET_MS, and at the latest SPARE_LATEST_MS after a take.
 * The processes are stand-ins: this is the timing rule alone (the e2e suite's
 * badge-states runs the real processes).
 */
import type { IsolatedPeerHost } from '../../src/p2p/isolated-peer-host';
import { createSpareHost, SPARE_LATEST_MS, SPARE_QUIET_MS } from '../../src/p2p/spare-host';

function starts() {
  const made: IsolatedPeerHost[] = [];
  const make = () => {
    const h = { ended: false, close: () => undefined } as unknown as IsolatedPeerHost;
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
});
