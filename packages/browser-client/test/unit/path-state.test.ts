/**
 * What the shell announces about its path (page/path-state.ts): a lossy
 * verdict the tab remembers goes out before the channel is up, and stays
 * until this shell's own probe ends clean.
 */
import type { TransportStatus } from '../../src/page/p2p';
import { createPathState } from '../../src/page/path-state';

const open = (extra: Partial<Extract<TransportStatus, { transport: 'p2p' }>> = {}): TransportStatus => ({
  transport: 'p2p',
  rttMs: 60,
  connectMs: 900,
  viewerId: 'v1',
  channels: 4,
  verified: false,
  ...extra,
});
const relay: TransportStatus = { transport: 'relay', reason: 'connecting' };

describe("the shell's path state", () => {
  it('says nothing of loss in a tab without a lossy memory until its probe finds loss', () => {
    const s = createPathState(false);
    expect(s.initial()).toEqual({ p2p: false });
    expect(s.next(open({ turn: true }))).toEqual({ p2p: true, turn: true });
    expect(s.next(open({ lossy: true }))).toEqual({ p2p: true, lossy: true });
    // The channel closes: the path stays lossy for the next one.
    expect(s.next(relay)).toEqual({ p2p: false, lossy: true });
  });

  it("announces the tab's lossy memory at once, keeps it while the channel's probe runs, and drops it on a clean one", () => {
    const s = createPathState(true);
    expect(s.initial()).toEqual({ p2p: false, lossy: true });
    expect(s.next(open())).toEqual({ p2p: true, lossy: true });
    expect(s.next(open({ loss: { sent: 128, lost: 1 } }))).toEqual({ p2p: true, lossClean: true });
    expect(s.next(relay)).toEqual({ p2p: false, lossClean: true });
  });

  it("says the channel's probe is pending until it gives a verdict, and not past a lossy one", () => {
    const s = createPathState(false);
    expect(s.next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    expect(s.next(open())).toEqual({ p2p: true });
    expect(s.next(open({ probing: true, lossy: true }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(relay)).toEqual({ p2p: false, lossy: true });
  });

  it('keeps the memory when the probe was cut short or got no answer', () => {
    const s = createPathState(true);
    expect(s.next(open({ loss: { sent: 100, lost: 1 } }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(open({ loss: { sent: 16, lost: 16 } }))).toEqual({ p2p: true, lossy: true });
  });

  it("takes no verdict from the figures of an earlier channel's probe that a channel without one shows", () => {
    const s = createPathState(false);
    expect(s.next(open({ loss: { sent: 128, lost: 0, at: 1_000 } }))).toEqual({ p2p: true });
  });

  it('confirms the memory when the probe finds loss again', () => {
    const s = createPathState(true);
    expect(s.next(open({ lossy: true, loss: { sent: 128, lost: 6 } }))).toEqual({ p2p: true, lossy: true });
  });

  it("drops the tab's lossy memory once the channel's hello says the server runs no probe", () => {
    const s = createPathState(true);
    expect(s.initial()).toEqual({ p2p: false, lossy: true });
    expect(s.next(open({ lossProbeOff: true }))).toEqual({ p2p: true, lossClean: true });
    expect(s.next(relay)).toEqual({ p2p: false, lossClean: true });
  });
});
