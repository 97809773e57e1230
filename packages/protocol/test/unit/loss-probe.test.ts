/**
 * The loss probe's count (docs/PROTOCOL.md §Loss probe): which probes may
 * leave, which count as lost, and when the path is lossy. The probe over
 * real data channels, with the agent's echo, is in
 * test/integration/loss-probe.test.ts.
 */
import {
  LOSS_PROBE_BYTES,
  LOSS_PROBE_GAP,
  LOSS_PROBE_LOSSY_MIN,
  LOSS_PROBE_WINDOW,
  LossTally,
  lossProbeMessage,
  lossProbeSeq,
} from '../../src/transports/loss-probe';

/** A tally with `n` probes sent. */
function sent(n: number): LossTally {
  const t = new LossTally();
  for (let i = 0; i < n; i++) t.next();
  return t;
}

describe('loss probe tally', () => {
  it('keeps at most the window in flight and stops at the count', () => {
    const t = new LossTally();
    let n = 0;
    while (t.canSend(40)) {
      t.next();
      n++;
    }
    expect(n).toBe(LOSS_PROBE_WINDOW);
    for (let i = 0; i < 4; i++) t.echo(i);
    expect(t.inFlight()).toBe(LOSS_PROBE_WINDOW - 4);
    while (t.canSend(40)) t.next();
    expect(t.sent).toBe(LOSS_PROBE_WINDOW + 4);
    for (let round = 0; round < 10 && t.sent < 40; round++) {
      for (let i = 0; i < t.sent; i++) t.echo(i);
      while (t.canSend(40)) t.next();
    }
    expect(t.sent).toBe(40);
    expect(t.canSend(40)).toBe(false);
  });

  it(`counts a probe lost once ${LOSS_PROBE_GAP} later ones are back, not before`, () => {
    const t = sent(10);
    t.echo(0);
    t.echo(2);
    t.echo(3);
    expect(t.lost()).toBe(0);
    t.echo(4);
    expect(t.lost()).toBe(1);
    // A lost probe frees its place in the window.
    expect(t.inFlight()).toBe(10 - 4 - 1);
  });

  it('takes a probe counted lost back when it arrives after all (reordered, not lost)', () => {
    const t = sent(8);
    for (const s of [0, 2, 3, 4]) t.echo(s);
    expect(t.lost()).toBe(1);
    expect(t.echo(1)).toBe(true);
    expect(t.lost()).toBe(0);
    expect(t.echoed).toBe(5);
  });

  it('ignores answers to probes never sent, and repeats', () => {
    const t = sent(3);
    expect(t.echo(5)).toBe(false);
    expect(t.echo(-1)).toBe(false);
    expect(t.echo(1.5)).toBe(false);
    expect(t.echo(1)).toBe(true);
    expect(t.echo(1)).toBe(false);
    expect(t.echoed).toBe(1);
  });

  it(`calls the path lossy at ${LOSS_PROBE_LOSSY_MIN} probes lost by the gap rule`, () => {
    const t = sent(20);
    for (let s = 0; s < 20; s++) if (s !== 3 && s !== 11 && s !== 19) t.echo(s);
    // 3 and 11 are lost by the gap rule; 19 has too few answers after it to tell.
    expect({ lost: t.lost(), lossy: t.lossy() }).toEqual({ lost: 2, lossy: true });
  });

  it('never counts a probe without enough answers after it as lost: late answers are no loss', () => {
    const t = sent(20);
    for (let s = 0; s < 20; s++) if (s !== 3 && s !== 17 && s !== 19) t.echo(s);
    // 17 and 19 may be late (the agent's thread stalled): only 3 is lost, and one loss is no verdict.
    expect({ lost: t.lost(), lossy: t.lossy() }).toEqual({ lost: 1, lossy: false });
  });

  it('with no answer at all there is no verdict (an agent without the probe channel), however many went', () => {
    const t = sent(128);
    expect({ lost: t.lost(), lossy: t.lossy() }).toEqual({ lost: 0, lossy: false });
  });

  it('numbers each probe in a message of its fixed size and reads nothing else as a probe', () => {
    const m = lossProbeMessage(300);
    expect(m.byteLength).toBe(LOSS_PROBE_BYTES);
    expect(lossProbeSeq(m)).toBe(300);
    expect(lossProbeSeq(new ArrayBuffer(LOSS_PROBE_BYTES - 1))).toBeUndefined();
    expect(lossProbeSeq('x'.repeat(LOSS_PROBE_BYTES))).toBeUndefined();
  });
});
