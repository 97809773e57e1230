/**
 * Log lines outsiders can cause, bounded: one line per key per interval as
 * it comes, one summary of the rest, and keys past the first few of an
 * interval in one summary of their own.
 */
import { createLogLimit, type LimitedLine } from '../../src/log-limit';
import { withTimeout } from '../../../../test/helpers/wait';

/** An interval long enough never to end by itself within a test. */
const NEVER_MS = 3_600_000;

/** Occurrences a set of lines stands for: one per line written as it came, the count of each summary. */
const occurrences = (lines: LimitedLine<unknown>[]) => lines.reduce((n, l) => n + (l.suppressed === 0 ? 1 : l.suppressed), 0);

describe('createLogLimit', () => {
  it('writes the first occurrence of a key as it comes and the rest as one summary when the interval ends', () => {
    const lines: LimitedLine<number>[] = [];
    const limit = createLogLimit<number>((l) => lines.push(l), { intervalMs: NEVER_MS, maxKeys: 4 });
    for (let i = 0; i < 1000; i++) limit.record('a b', i);
    expect(lines).toEqual([{ entry: 0, suppressed: 0, overflow: false }]);
    limit.flush();
    expect(lines).toEqual([
      { entry: 0, suppressed: 0, overflow: false },
      { entry: 999, suppressed: 999, overflow: false },
    ]);
    // A new interval: the key writes again as it comes.
    limit.record('a b', 1000);
    expect(lines).toHaveLength(3);
    limit.flush();
    expect(lines).toHaveLength(3);
  });

  it('writes at most 2 × maxKeys + 1 lines an interval however many keys occur, and loses no count', () => {
    const lines: LimitedLine<string>[] = [];
    const limit = createLogLimit<string>((l) => lines.push(l), { intervalMs: NEVER_MS, maxKeys: 32 });
    for (let k = 0; k < 100; k++) for (let i = 0; i < 10; i++) limit.record(`key ${k}`, `key ${k} #${i}`);
    expect(lines).toHaveLength(32);
    limit.flush();
    expect(lines).toHaveLength(2 * 32 + 1);
    expect(lines.filter((l) => l.overflow)).toEqual([{ entry: 'key 99 #9', suppressed: 68 * 10, overflow: true }]);
    expect(lines.filter((l) => l.suppressed === 9 && !l.overflow)).toHaveLength(32);
    expect(occurrences(lines)).toBe(1000);
  });

  it('writes the summaries by itself when the interval ends', async () => {
    let summarized!: (line: LimitedLine<number>) => void;
    const summary = new Promise<LimitedLine<number>>((resolve) => (summarized = resolve));
    const limit = createLogLimit<number>((l) => l.suppressed > 0 && summarized(l), { intervalMs: 50, maxKeys: 4 });
    for (let i = 0; i < 3; i++) limit.record('a b', i);
    expect(await withTimeout(summary, { timeoutMs: 5_000, what: 'the summary line' })).toEqual({ entry: 2, suppressed: 2, overflow: false });
  });
});
