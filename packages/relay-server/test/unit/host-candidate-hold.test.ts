/** The host candidate held behind its prediction: sent after the delay, at once on release, never after the peer closed. */
import { HostCandidateHold } from '../../src/p2p/host-candidate-hold';

const host = (port: number) => ({ candidate: `candidate:4060970676 1 udp 2122260223 10.231.113.10 ${port} typ host`, sdpMid: '0', sdpMLineIndex: 0 });

describe('HostCandidateHold', () => {
  // The delay on jest's fake clock: "not before" holds however loaded the machine is.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends what it holds once the delay has passed, in order, not before', () => {
    const sent: string[] = [];
    const hold = new HostCandidateHold((c) => sent.push(c.candidate), 60);
    hold.hold(host(1));
    hold.hold(host(2));
    jest.advanceTimersByTime(59);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([host(1).candidate, host(2).candidate]);
  });

  it('on release sends what it holds at once, and from then on every host candidate as it comes', () => {
    const sent: string[] = [];
    const hold = new HostCandidateHold((c) => sent.push(c.candidate), 10_000);
    hold.hold(host(1));
    hold.release();
    expect(sent).toEqual([host(1).candidate]);
    hold.hold(host(2));
    expect(sent).toEqual([host(1).candidate, host(2).candidate]);
  });

  it('drops what it holds when stopped (the peer connection closed)', () => {
    const sent: string[] = [];
    const hold = new HostCandidateHold((c) => sent.push(c.candidate), 30);
    hold.hold(host(1));
    hold.stop();
    jest.runAllTimers();
    expect(sent).toEqual([]);
  });
});
