/**
 * The lab's goal lines and repeated runs (scripts/lab/report.mjs,
 * scripts/lab/repeats.mjs): pure functions over result rows, no lab needed.
 */
import { judgeWanGoals } from '../../scripts/lab/report.mjs';
import { median, medianRows } from '../../scripts/lab/repeats.mjs';

const peerRtt = () => 20;

function row(mode: string, figures: Record<string, unknown>) {
  return { scenario: 'far-server', mode, ok: true, failed: [], transport: mode === 'p2p' ? 'srflx' : mode, ...figures };
}

describe('lab goals', () => {
  it('prints the floor beside the far-server goals when the run has a direct row', () => {
    const goals = judgeWanGoals(
      [row('p2p', { coldMs: 3000, smallP50Ms: 30 }), row('relay-only', { coldMs: 4000, smallP50Ms: 170 }), row('direct', { coldMs: 2800, smallP50Ms: 27 })],
      peerRtt,
    );
    const cold = goals.find((g) => g.text.startsWith('cold visit'))!;
    expect(cold.pass).toBe(false);
    expect(cold.text).toContain('floor (direct over the peer path) 2800 ms: 0.7×');
    const small = goals.find((g) => g.text.startsWith('small fetch'))!;
    expect(small.text).toContain('floor (direct over the peer path) 27 ms');
  });

  it('prints no floor without a direct row, and never judges the direct row against never-worse', () => {
    const withoutDirect = judgeWanGoals([row('p2p', { coldMs: 1900 }), row('relay-only', { coldMs: 4000 })], peerRtt);
    expect(withoutDirect.find((g) => g.text.startsWith('cold visit'))!.pass).toBe(true);
    expect(withoutDirect.some((g) => g.text.includes('floor'))).toBe(false);
    const withDirect = judgeWanGoals([row('relay-only', { coldMs: 4000 }), row('direct', { coldMs: 9000 })], peerRtt);
    expect(withDirect.filter((g) => g.goal === 'never worse')).toEqual([]);
  });
});

describe('lab repeats', () => {
  it('takes the median of the numbers given, ignoring missing ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, null, 3, 2])).toBe(2.5);
    expect(median([null, undefined])).toBeNull();
  });

  it('makes one row per scenario and mode with median figures, every run kept in samples', () => {
    const rows = medianRows([
      row('p2p', { coldMs: 3000, warmReload: { ms: 2000, shell: true } }),
      row('relay-only', { coldMs: 4000 }),
      { ...row('p2p', { coldMs: 5000, warmReload: { ms: 2600 } }), ok: false, failed: ['noError'] },
      row('p2p', { coldMs: 3500 }),
    ]);
    expect(rows).toHaveLength(2);
    const p2p = rows.find((r) => r.mode === 'p2p')!;
    expect(p2p.coldMs).toBe(3500);
    expect(p2p.warmReload).toEqual({ ms: 2300, shell: true });
    expect(p2p.ok).toBe(false);
    expect(p2p.failed).toEqual(['noError']);
    expect(p2p.repeats).toBe(3);
    expect((p2p.samples as Record<string, unknown>).coldMs).toEqual([3000, 5000, 3500]);
    // A figure no run had stays absent rather than becoming an empty object.
    expect(p2p).not.toHaveProperty('swStoppedReload');
  });
});
