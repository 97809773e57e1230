/**
 * The lab's goal lines and repeated runs (scripts/lab/report.mjs,
 * scripts/lab/repeats.mjs): pure functions over result rows, no lab needed.
 */
import { judgeWanGoals } from '../../scripts/lab/report.mjs';
import { median, medianRows } from '../../scripts/lab/repeats.mjs';

function row(mode: string, figures: Record<string, unknown>) {
  return { scenario: 'far-server', mode, ok: true, failed: [], transport: mode === 'p2p' ? 'srflx' : mode, ...figures };
}

describe('lab goals', () => {
  const cold = (ms: number, docEnd: number, ready?: number) => ({
    coldMs: ms,
    coldAppDocument: { responseEnd: docEnd },
    ...(ready !== undefined ? { timeline: { ready } } : {}),
  });

  it("judges far-server loads against the direct floor and shows Wingman's own floor from the same run", () => {
    const goals = judgeWanGoals([
      row('p2p', { ...cold(3000, 900, 1200), smallP50Ms: 30 }),
      row('relay-only', { ...cold(4000, 600), smallP50Ms: 170 }),
      row('direct', { ...cold(2000, 100), smallP50Ms: 27 }),
    ]);
    const line = goals.find((g) => g.text.startsWith('cold visit'))!;
    expect(line.goal).toBe('floor');
    expect(line.pass).toBe(false);
    // Wingman's floor: channel ready at 1200 ms + direct's wave of 1900 ms.
    expect(line.text).toContain('via P2P 3000 ms vs direct 2000 ms: 1.5× (goal ≤ 1.3×)');
    expect(line.text).toContain("Wingman's floor 3100 ms (channel ready at 1200 ms + direct's module wave 1900 ms): 0.97×");
    expect(line.text).toContain('its module wave took 1800 ms after the channel was ready');
    const small = goals.find((g) => g.text.startsWith('API p50'))!;
    expect(small.pass).toBe(true);
    expect(small.text).toBe('API p50 via P2P 30 ms vs direct 27 ms (goal ≤ direct + 3 ms)');
  });

  it('passes a load within 1.3× of direct, and says nothing of a floor without a direct row', () => {
    const within = judgeWanGoals([row('p2p', cold(2500, 900, 1200)), row('direct', cold(2000, 100))]);
    expect(within.find((g) => g.text.startsWith('cold visit'))!.pass).toBe(true);
    const withoutDirect = judgeWanGoals([row('p2p', { coldMs: 1900 }), row('relay-only', { coldMs: 4000 })]);
    expect(withoutDirect.some((g) => g.goal === 'floor')).toBe(false);
  });

  it('wants P2P bulk at least as fast as the relay, and the server share under 5 % (1 % on a shared LAN)', () => {
    const goals = judgeWanGoals([
      row('p2p', { downloadMBps: 20, uploadMBps: 5, downloadTransport: 'p2p', uploadTransport: 'relay', serverWirePerAppByteAfterFirstLoad: 0.04 }),
      row('relay-only', { downloadMBps: 17, uploadMBps: 6 }),
      { ...row('p2p', { serverWirePerAppByteAfterFirstLoad: 0.04 }), scenario: 'same-lan-cloud-server' },
    ]);
    const bulk = goals.filter((g) => g.goal === 'bulk');
    expect(bulk.map((g) => g.pass)).toEqual([true, false]);
    expect(bulk[1]!.text).toBe('20 MiB up via P2P 5 MB/s vs relay-only 6 MB/s (goal ≥ relay-only), via relay');
    expect(goals.filter((g) => g.goal === 'server cost').map((g) => [g.scenario, g.pass])).toEqual([
      ['far-server', true],
      ['same-lan-cloud-server', false],
    ]);
  });

  it("ends each bulk line with the same run's bulk floor from the relay-only row", () => {
    const t = (MBps: number, drops: Record<string, number>) => ({ MBps, rcvbufErrors: drops, cpu: { machineBusyPct: 150, labPct: 100 } });
    const bulkFloor = { peers: { '1': { down: t(12, { reviewer: 3 }), up: t(4, { dev: 700 }) } }, error: null };
    const goals = judgeWanGoals([
      row('p2p', { downloadMBps: 11, uploadMBps: 5, downloadTransport: 'p2p', uploadTransport: 'p2p' }),
      row('relay-only', { downloadMBps: 17, uploadMBps: 7, bulkFloor }),
    ]);
    const [down, up] = goals.filter((g) => g.goal === 'bulk');
    expect(down!.text).toBe(
      '20 MiB down via P2P 11 MB/s vs relay-only 17 MB/s (goal ≥ relay-only), via p2p; bulk floor (bare data channel, same run) 12 / — / — MB/s over 1 / 2 / 4 peer connections ' +
        "(reviewer receive-buffer drops 3 / — / —, machine busy 150 / — / — % of one core, the lab's processes 100 / — / — %)",
    );
    expect(up!.text).toContain(
      'via p2p; bulk floor (bare data channel, same run) 4 / — / — MB/s over 1 / 2 / 4 peer connections (dev receive-buffer drops 700 / — / —',
    );
  });

  it('holds lossy-mobile P2P to relay-only on the three loads and API p99', () => {
    const lossy = (mode: string, figures: Record<string, unknown>) => ({ ...row(mode, figures), scenario: 'lossy-mobile' });
    const goals = judgeWanGoals([
      lossy('p2p', { coldMs: 3000, warmReload: { ms: 1500 }, swStoppedReload: { ms: 1500 }, smallP99Ms: 900 }),
      lossy('relay-only', { coldMs: 2900, warmReload: { ms: 1600 }, swStoppedReload: { ms: 1600 }, smallP99Ms: 500 }),
    ]);
    const line = goals.find((g) => g.goal === 'lossy')!;
    expect(line.pass).toBe(false);
    expect(line.text).toContain('worse in cold visit 3000 vs 2900 (1.03×); API p99 900 vs 500 (1.8×)');
  });

  it("puts the bare data channel's rate under the same loss beside the relay's on the lossy line", () => {
    const lossy = (mode: string, figures: Record<string, unknown>) => ({ ...row(mode, figures), scenario: 'lossy-mobile' });
    const floor = { bytes: 2 * 1024 * 1024, peers: { '1': { down: { MBps: 0.2 } }, '2': { down: { MBps: 0.3 } }, '4': { down: { MBps: 0.6 } } } };
    const goals = judgeWanGoals([
      lossy('p2p', { coldMs: 3000, warmReload: { ms: 1500 }, swStoppedReload: { ms: 1500 }, smallP99Ms: 400 }),
      lossy('relay-only', { coldMs: 2900, warmReload: { ms: 1600 }, swStoppedReload: { ms: 1600 }, smallP99Ms: 500, downloadMBps: 16.4, bulkFloor: floor }),
    ]);
    const line = goals.find((g) => g.goal === 'lossy')!;
    expect(line.text).toContain('bulk floor (bare data channel, same run, 2 MiB each way) 0.2 / 0.3 / 0.6 MB/s over 1 / 2 / 4 peer connections');
    expect(line.text).toContain('relay-only 20 MiB down 16.4 MB/s');
  });

  it("puts the reloads' Service Worker and shell floors from the relay-only row on the lossy line", () => {
    const lossy = (mode: string, figures: Record<string, unknown>) => ({ ...row(mode, figures), scenario: 'lossy-mobile' });
    const goals = judgeWanGoals([
      lossy('p2p', { coldMs: 3000, warmReload: { ms: 1800 }, swStoppedReload: { ms: 1700 }, smallP99Ms: 400 }),
      lossy('relay-only', {
        coldMs: 2900,
        warmReload: { ms: 1600 },
        swStoppedReload: { ms: 1500 },
        smallP99Ms: 500,
        swFloor: { worker: { warmReload: { ms: 1760 }, swStoppedReload: { ms: 1800 } }, shell: { warmReload: { ms: 1800 } } },
      }),
    ]);
    const line = goals.find((g) => g.goal === 'lossy')!;
    expect(line.pass).toBe(false);
    expect(line.text).toContain(
      'Service Worker floor (relay-only under the smallest worker, same run): warm reload 1760 ms (1.1× relay-only; P2P 1.02× it), reload, SW stopped 1800 ms (1.2× relay-only; P2P 0.94× it)',
    );
    expect(line.text).toContain('; shell floor (… and the smallest shell, the app in its frame): warm reload 1800 ms (1.13× relay-only; P2P 1× it)');
    expect(line.text).not.toContain('its frame): warm reload 1800 ms (1.13× relay-only; P2P 1× it), reload');
    // Without the floor's reloads, nothing is said of it.
    const bare = judgeWanGoals([lossy('p2p', { warmReload: { ms: 1800 } }), lossy('relay-only', { warmReload: { ms: 1600 } })]);
    expect(bare.find((g) => g.goal === 'lossy')!.text).not.toContain('Service Worker floor');
  });

  it('never judges the direct row against never-worse', () => {
    const withDirect = judgeWanGoals([row('relay-only', { coldMs: 4000 }), row('direct', { coldMs: 9000 })]);
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
      row('p2p', { coldMs: 3000, p2pReadyMs: 1400, warmReload: { ms: 2000, shell: true, p2pReadyMs: 800 } }),
      row('relay-only', { coldMs: 4000 }),
      { ...row('p2p', { coldMs: 5000, p2pReadyMs: 1100, warmReload: { ms: 2600, p2pReadyMs: 700 } }), ok: false, failed: ['noError'] },
      row('p2p', { coldMs: 3500, p2pReadyMs: 1200 }),
    ]);
    expect(rows).toHaveLength(2);
    const p2p = rows.find((r) => r.mode === 'p2p')!;
    expect(p2p.coldMs).toBe(3500);
    expect(p2p.warmReload).toEqual({ ms: 2300, shell: true, p2pReadyMs: 750 });
    // Each load's channel set-up, per run: where a load's time went before its module wave.
    expect((p2p.samples as Record<string, unknown>).p2pReadyMs).toEqual([1400, 1100, 1200]);
    expect((p2p.samples as Record<string, unknown>)['warmReload.p2pReadyMs']).toEqual([800, 700, null]);
    expect(p2p.ok).toBe(false);
    expect(p2p.failed).toEqual(['noError']);
    expect(p2p.repeats).toBe(3);
    expect((p2p.samples as Record<string, unknown>).coldMs).toEqual([3000, 5000, 3500]);
    // A figure no run had stays absent rather than becoming an empty object.
    expect(p2p).not.toHaveProperty('swStoppedReload');
  });

  it("sums the agent's P2P host crashes over the runs (a median would hide one)", () => {
    const [p2p] = medianRows([
      row('p2p', { coldMs: 2500, p2pHostCrashes: 0 }),
      row('p2p', { coldMs: 2400, p2pHostCrashes: 1 }),
      row('p2p', { coldMs: 2600, p2pHostCrashes: 0 }),
    ]);
    expect(p2p!.p2pHostCrashes).toBe(1);
    expect((p2p!.samples as Record<string, unknown>).p2pHostCrashes).toEqual([0, 1, 0]);
    // A baseline's rows have no agent: no figure.
    const [direct] = medianRows([row('direct', { coldMs: 1600 }), row('direct', { coldMs: 1500 })]);
    expect(direct).not.toHaveProperty('p2pHostCrashes');
  });

  it("takes each load's shell milestones and documents from all runs, so a goal line's set-up steps are medians too", () => {
    const load = (answerIn: number, answer: number, ready: number, docEnd: number) => ({
      timeline: { hello: 400, offer: 420, 'answer-in': answerIn, answer, ready },
      coldShellDocument: { responseEnd: 250 },
      coldAppDocument: { responseEnd: docEnd },
    });
    const [p2p] = medianRows([
      row('p2p', { coldMs: 2500, ...load(700, 800, 950, 640) }),
      row('p2p', { coldMs: 2400, ...load(760, 761, 900, 600) }),
      row('p2p', { coldMs: 2600, ...load(720, 722, 920, 700) }),
    ]);
    expect(p2p!.timeline).toEqual({ hello: 400, offer: 420, 'answer-in': 720, answer: 761, ready: 920 });
    expect(p2p!.coldAppDocument).toEqual({ responseEnd: 640 });
    expect((p2p!.samples as Record<string, unknown>)['timeline.answer']).toEqual([800, 761, 722]);
    // The cold visit's line: the channel ready at the median mark, its steps from the median marks.
    const goals = judgeWanGoals([p2p!, row('direct', { coldMs: 1600, coldAppDocument: { responseEnd: 100 } })]);
    expect(goals.find((g) => g.text.startsWith('cold visit'))!.text).toContain('channel ready at 920 ms');
  });
});
