/**
 * Whether a shell's new channel runs the loss probe (page/loss-probe-memo.ts):
 * a clean measurement stands for the tab a while; a lossy one, or one cut
 * short, does not.
 */
import { LOSS_PROBE_COUNT, type LossProbeResult } from '@wingman/protocol';
import { LOSS_PROBE_FIGURES_STORAGE_KEY } from '../../src/shared/constants';
import {
  LOSS_PROBE_REUSE_MS,
  lossProbeDue,
  lossProbeMeasured,
  lossProbeTurnedOff,
  lossyRemembered,
  rememberedLoss,
  type MemoStore,
} from '../../src/page/loss-probe-memo';

function store(): MemoStore {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}
const result = (r: Partial<LossProbeResult>): LossProbeResult => ({ sent: LOSS_PROBE_COUNT, echoed: LOSS_PROBE_COUNT, lost: 0, lossy: false, ms: 300, ...r });

describe('loss probe memo', () => {
  it('skips the probe for a while after a clean measurement, then probes again', () => {
    const s = store();
    expect(lossProbeDue(1_000, s)).toBe(true);
    lossProbeMeasured(result({}), 1_000, s);
    expect(lossProbeDue(1_000 + LOSS_PROBE_REUSE_MS - 1, s)).toBe(false);
    expect(lossProbeDue(1_000 + LOSS_PROBE_REUSE_MS, s)).toBe(true);
    // A clock that went back is no reason to skip.
    expect(lossProbeDue(500, s)).toBe(true);
  });

  it('probes every channel of a lossy path, and after a measurement the channel cut short', () => {
    const s = store();
    lossProbeMeasured(result({}), 1_000, s);
    lossProbeMeasured(result({ lost: 5, lossy: true, echoed: LOSS_PROBE_COUNT - 5 }), 2_000, s);
    expect(lossProbeDue(2_001, s)).toBe(true);
    lossProbeMeasured(result({ sent: 40, echoed: 40 }), 3_000, s);
    expect(lossProbeDue(3_001, s)).toBe(true);
  });

  it('remembers a lossy path for a while, until a clean measurement', () => {
    const s = store();
    expect(lossyRemembered(1_000, s)).toBe(false);
    lossProbeMeasured(result({ sent: 40, echoed: 38, lost: 2, lossy: true }), 1_000, s);
    expect(lossyRemembered(1_000 + LOSS_PROBE_REUSE_MS - 1, s)).toBe(true);
    expect(lossyRemembered(1_000 + LOSS_PROBE_REUSE_MS, s)).toBe(false);
    expect(lossyRemembered(500, s)).toBe(false);
    // Cut short: what was remembered stays.
    lossProbeMeasured(result({ sent: 40, echoed: 40 }), 2_000, s);
    expect(lossyRemembered(2_001, s)).toBe(true);
    lossProbeMeasured(result({}), 3_000, s);
    expect(lossyRemembered(3_001, s)).toBe(false);
    expect(lossProbeDue(3_001, s)).toBe(false);
  });

  it('does not ask again soon an agent that answered nothing (no probe channel there)', () => {
    const s = store();
    lossProbeMeasured(result({ sent: 16, echoed: 0, lost: 16 }), 1_000, s);
    expect(lossProbeDue(1_001, s)).toBe(false);
  });

  it('probes where storage is missing or throws', () => {
    const broken: MemoStore = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => undefined,
    };
    expect(lossProbeDue(1_000, undefined)).toBe(true);
    expect(() => lossProbeMeasured(result({}), 1_000, broken)).not.toThrow();
    expect(lossProbeDue(1_000, broken)).toBe(true);
    expect(lossyRemembered(1_000, broken)).toBe(false);
  });

  it('forgets a lossy path when the server turns the probe off', () => {
    const s = store();
    lossProbeMeasured(result({ sent: 40, echoed: 38, lost: 2, lossy: true }), 1_000, s);
    lossProbeTurnedOff(s);
    expect(lossyRemembered(1_001, s)).toBe(false);
  });

  it('gives a channel that skips its probe the figures of the clean measurement it relies on, while that stands', () => {
    const s = store();
    expect(rememberedLoss(1_000, s)).toBeUndefined();
    lossProbeMeasured(result({ lost: 1, echoed: LOSS_PROBE_COUNT - 1 }), 1_000, s);
    expect(rememberedLoss(2_000, s)).toEqual({ sent: LOSS_PROBE_COUNT, lost: 1, at: 1_000 });
    expect(rememberedLoss(1_000 + LOSS_PROBE_REUSE_MS, s)).toBeUndefined();
    // A measurement cut short changes nothing; a lossy one withdraws them.
    lossProbeMeasured(result({ sent: 40, echoed: 40 }), 3_000, s);
    expect(rememberedLoss(3_001, s)).toEqual({ sent: LOSS_PROBE_COUNT, lost: 1, at: 1_000 });
    lossProbeMeasured(result({ lost: 9, echoed: LOSS_PROBE_COUNT - 9, lossy: true }), 4_000, s);
    expect(rememberedLoss(4_001, s)).toBeUndefined();
  });

  it('keeps no figures of a probe the agent never answered, and reads none that a probe could not have made', () => {
    const s = store();
    lossProbeMeasured(result({ echoed: 0, lost: 0, sent: 3 }), 1_000, s);
    expect(lossProbeDue(1_001, s)).toBe(false);
    expect(rememberedLoss(1_001, s)).toBeUndefined();
    for (const bad of [
      '{',
      '{"sent":10,"lost":11,"at":1000}',
      `{"sent":${LOSS_PROBE_COUNT + 1},"lost":0,"at":1000}`,
      '{"sent":10,"lost":0,"at":"x"}',
      '{"sent":10,"lost":0,"at":5000}',
    ]) {
      s.setItem(LOSS_PROBE_FIGURES_STORAGE_KEY, bad);
      expect(rememberedLoss(1_001, s)).toBeUndefined();
    }
  });
});
