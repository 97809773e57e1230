/**
 * The log lines about slots cut for another viewer, which outsiders can cause, bounded: one line per pair of networks
 * per interval as it comes, one summary of the rest, and pairs past the first few of an interval in one summary of
 * their own.
 */
import pino from 'pino';
import { createCutLog } from '../../src/sessions/cut-log';
import type { SlotCut } from '../../src/sessions/push-out';
import { withTimeout } from '../../../../test/helpers/wait';

/** An interval long enough never to end by itself within a test. */
const NEVER_MS = 3_600_000;

interface Line {
  msg: string;
  sessionId?: string;
  network?: string;
  for?: string;
  suppressed?: number;
}

/** A logger whose lines land in `lines`, parsed; `onLine` hears each. */
function capture(onLine: (line: Line) => void = () => {}) {
  const lines: Line[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(text: string) {
        const line = JSON.parse(text) as Line;
        lines.push(line);
        onLine(line);
      },
    },
  );
  return { lines, logger };
}

const cutOf = (network: string, taker: string): SlotCut<unknown> => ({
  group: 's',
  cut: { network, source: network },
  held: 3,
  taker: { network: taker, source: taker },
});

/** Cuts a set of lines stands for: one per line written as it came, the count of each summary. */
const occurrences = (lines: Line[]) => lines.reduce((n, l) => n + (l.suppressed ?? 1), 0);

describe('createCutLog', () => {
  it('writes the first cut of a pair of networks as it comes and the rest as one summary when the interval ends', () => {
    const { lines, logger } = capture();
    const log = createCutLog(logger, 'stream', { intervalMs: NEVER_MS, maxKeys: 4 });
    for (let i = 0; i < 1000; i++) log.record(`s${i}`, cutOf('a', 'b'));
    expect(lines).toEqual([expect.objectContaining({ sessionId: 's0', network: 'a', for: 'b', msg: expect.stringContaining('cut the newest stream') })]);
    log.flush();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual(expect.objectContaining({ sessionId: 's999', network: 'a', for: 'b', suppressed: 999 }));
    // A new interval: the pair writes again as it comes.
    log.record('s1000', cutOf('a', 'b'));
    expect(lines).toHaveLength(3);
    log.flush();
    expect(lines).toHaveLength(3);
  });

  it('writes at most 2 × maxKeys + 1 lines an interval however many pairs occur, and loses no count', () => {
    const { lines, logger } = capture();
    const log = createCutLog(logger, 'signaling socket', { intervalMs: NEVER_MS, maxKeys: 32 });
    for (let k = 0; k < 100; k++) for (let i = 0; i < 10; i++) log.record('s', cutOf(`n${k}`, 'b'));
    expect(lines).toHaveLength(32);
    log.flush();
    expect(lines).toHaveLength(2 * 32 + 1);
    expect(lines.filter((l) => l.network === undefined)).toEqual([
      expect.objectContaining({ suppressed: 68 * 10, msg: expect.stringContaining('680 more signaling socket cuts between other pairs') }),
    ]);
    expect(lines.filter((l) => l.suppressed === 9 && l.network !== undefined)).toHaveLength(32);
    expect(occurrences(lines)).toBe(1000);
  });

  it('writes the summaries by itself when the interval ends', async () => {
    let summarized!: (line: Line) => void;
    const summary = new Promise<Line>((resolve) => (summarized = resolve));
    const { logger } = capture((l) => l.suppressed !== undefined && summarized(l));
    const log = createCutLog(logger, 'stream', { intervalMs: 50, maxKeys: 4 });
    for (let i = 0; i < 3; i++) log.record(`s${i}`, cutOf('a', 'b'));
    expect(await withTimeout(summary, { timeoutMs: 5_000, what: 'the summary line' })).toEqual(expect.objectContaining({ sessionId: 's2', suppressed: 2 }));
  });
});
