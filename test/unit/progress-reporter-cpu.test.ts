/**
 * The progress reporter's CPU per test file (scripts/lib/jest-progress-reporter.cjs): in band,
 * a file's `cpuMs` counts what the processes it started and stopped used, which the runner's
 * CPU table (scripts/run-tests.mjs) lists; with workers no figure is written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ProgressReporter = require('../../scripts/lib/jest-progress-reporter.cjs') as new (config: { maxWorkers: number }) => {
  onTestFileStart(test: { path: string }): void;
  onTestFileResult(test: { path: string }, result: object): void;
};

const RESULT = { numPassingTests: 1, numFailingTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [] };

/** A child that spins for `ms` of its own CPU and prints the CPU it used, µs. */
function burnInChild(ms: number): number {
  const script = `const t=process.cpuUsage();while((process.cpuUsage(t).user)<${ms * 1000});const u=process.cpuUsage();console.log(u.user+u.system)`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

function lines(maxWorkers: number, work: () => void): Array<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-progress-'));
  const file = join(dir, 'progress');
  const before = process.env.WINGMAN_JEST_PROGRESS;
  process.env.WINGMAN_JEST_PROGRESS = file;
  try {
    const reporter = new ProgressReporter({ maxWorkers });
    reporter.onTestFileStart({ path: '/a.test.ts' });
    work();
    reporter.onTestFileResult({ path: '/a.test.ts' }, RESULT);
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } finally {
    if (before === undefined) delete process.env.WINGMAN_JEST_PROGRESS;
    else process.env.WINGMAN_JEST_PROGRESS = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the progress reporter', () => {
  it("in band, counts the CPU of a process the file started and reaped in the file's cpuMs", () => {
    let childUs = 0;
    const [, done] = lines(1, () => (childUs = burnInChild(100)));
    expect(done).toMatchObject({ done: '/a.test.ts', passed: 1 });
    // /proc counts in 10 ms ticks: the child's own figure, less a tick for each of its two times.
    expect(done!.cpuMs).toBeGreaterThanOrEqual(childUs / 1000 - 20);
  });

  it('with workers, writes no CPU figure (the workers are reaped only at the end)', () => {
    const [, done] = lines(2, () => burnInChild(20));
    expect(done).toMatchObject({ done: '/a.test.ts', passed: 1 });
    expect(done).not.toHaveProperty('cpuMs');
  });
});
