/**
 * What the shell announces about its path (page/path-state.ts): a lossy
 * verdict of this shell's probe stays, its later channels included, until a
 * probe ends clean.
 */
import type { TransportStatus } from '../../src/page/p2p';
import { createPathState } from '../../src/page/path-state';

const open = (extra: Partial<Extract<TransportStatus, { transport: 'p2p' }>> = {}): TransportStatus => ({
  transport: 'p2p',
  rttMs: 60,
  connectMs: 900,
  viewerId: 'v1',
  verified: false,
  ...extra,
});
const relay: TransportStatus = { transport: 'relay', reason: 'connecting' };

describe("the shell's path state", () => {
  it("carries the server's switched-off mechanisms from the first channel's status on, across channels", () => {
    const s = createPathState();
    expect(s.next(relay)).toEqual({ p2p: false });
    expect(s.next(open({ off: ['bulkRace'] }))).toEqual({ p2p: true, off: ['bulkRace'] });
    expect(s.next(relay)).toEqual({ p2p: false, off: ['bulkRace'] });
    expect(s.next(open({ off: [] }))).toEqual({ p2p: true, off: [] });
  });

  it('says nothing of loss until its probe finds loss', () => {
    const s = createPathState();
    expect(s.next(open({ turn: true }))).toEqual({ p2p: true, turn: true });
    expect(s.next(open({ lossy: true }))).toEqual({ p2p: true, lossy: true });
    // The channel closes: the path stays lossy for the next one.
    expect(s.next(relay)).toEqual({ p2p: false, lossy: true });
  });

  it("keeps a lossy verdict while the next channel's probe runs, and drops it on a clean one", () => {
    const s = createPathState();
    s.next(open({ lossy: true }));
    s.next(relay);
    expect(s.next(open({ probing: true }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(open({ loss: { sent: 128, lost: 1 } }))).toEqual({ p2p: true, lossClean: true });
    expect(s.next(relay)).toEqual({ p2p: false, lossClean: true });
  });

  it('takes back an early lossy verdict that the whole measurement does not confirm', () => {
    const s = createPathState();
    expect(s.next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    expect(s.next(open({ lossy: true }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(open({ loss: { sent: 128, lost: 2 } }))).toEqual({ p2p: true, lossClean: true });
  });

  it("says the channel's probe is pending until it gives a verdict, and not past a lossy one", () => {
    const s = createPathState();
    expect(s.next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    expect(s.next(open())).toEqual({ p2p: true });
    expect(s.next(open({ probing: true, lossy: true }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(relay)).toEqual({ p2p: false, lossy: true });
  });

  it('keeps the verdict when the next probe was cut short or got no answer', () => {
    const s = createPathState();
    s.next(open({ lossy: true }));
    expect(s.next(open({ loss: { sent: 100, lost: 1 } }))).toEqual({ p2p: true, lossy: true });
    expect(s.next(open({ loss: { sent: 16, lost: 16 } }))).toEqual({ p2p: true, lossy: true });
  });

  it('confirms the verdict when the probe finds loss again', () => {
    const s = createPathState();
    s.next(open({ lossy: true }));
    expect(s.next(open({ lossy: true, loss: { sent: 128, lost: 6 } }))).toEqual({ p2p: true, lossy: true });
  });
});
