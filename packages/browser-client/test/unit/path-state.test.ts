/**
 * What the shell announces about its path (page/path-state.ts): a lossy
 * verdict of this shell's probe stays, its later channels included, until a
 * probe ends clean; the tab keeps the verdict for its next page loads.
 */
import type { TransportStatus } from '../../src/page/p2p';
import { createPathState, VERDICT_KEEP_MS, type VerdictStore } from '../../src/page/path-state';

/** A tab's sessionStorage: what page loads of one tab share. */
function tabStore(): VerdictStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
}

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

  it('lets a later page load of the tab skip waiting for its probe on a path the tab found clean, and still take a lossy verdict', () => {
    const tab = tabStore();
    let t = 1_000_000;
    const first = createPathState(tab, () => t);
    expect(first.next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    first.next(open({ loss: { sent: 128, lost: 0 } }));
    t += 5_000;
    const reload = createPathState(tab, () => t);
    expect(reload.next(relay)).toEqual({ p2p: false, lossClean: true });
    expect(reload.next(open({ probing: true }))).toEqual({ p2p: true, lossClean: true });
    expect(reload.next(open({ lossy: true }))).toEqual({ p2p: true, lossy: true });
    expect(createPathState(tab, () => t).next(relay)).toEqual({ p2p: false, lossy: true });
  });

  it('has a later page load of the tab go around a path the tab found lossy from its first announcement', () => {
    const tab = tabStore();
    createPathState(tab, () => 1_000).next(open({ lossy: true }));
    const reload = createPathState(tab, () => 2_000);
    expect(reload.next(relay)).toEqual({ p2p: false, lossy: true });
    expect(reload.next(open({ probing: true }))).toEqual({ p2p: true, lossy: true });
    expect(reload.next(open({ loss: { sent: 128, lost: 0 } }))).toEqual({ p2p: true, lossClean: true });
  });

  it("forgets the tab's verdict after VERDICT_KEEP_MS, and ignores one it cannot read or storage that throws", () => {
    const tab = tabStore();
    createPathState(tab, () => 1_000).next(open({ loss: { sent: 128, lost: 0 } }));
    expect(createPathState(tab, () => 1_000 + VERDICT_KEEP_MS).next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    expect(createPathState(tab, () => 999).next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    tab.items.set([...tab.items.keys()][0]!, 'clean soon');
    expect(createPathState(tab, () => 1_000).next(open({ probing: true }))).toEqual({ p2p: true, probing: true });
    const broken: VerdictStore = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    const s = createPathState(broken);
    expect(s.next(open({ lossy: true }))).toEqual({ p2p: true, lossy: true });
  });
});
