/**
 * WINGMAN_TEST_WORKERS: how many integration/e2e files the runner runs at once. The real runner
 * (already inside this suite's loopback-only namespace, so it does not enter another) on one
 * small unit file, read from the jest command line it prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const FILE = 'packages/protocol/test/unit/backoff.test.ts';

function runner(workers: string | undefined, projects: string[], file = FILE, extraEnv: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, WINGMAN_TEST_NETNS: '1', WINGMAN_TEST_WORKERS: workers, ...extraEnv };
  if (workers === undefined) delete env.WINGMAN_TEST_WORKERS;
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', file, '--selectProjects', ...projects], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const jestLine = /\[run-tests\] selected: jest (.*)/.exec(r.stdout)?.[1] ?? '';
  return { code: r.status, jestLine, stderr: r.stderr };
}

describe('the test runner with WINGMAN_TEST_WORKERS', () => {
  it('runs in band by default', () => {
    const r = runner(undefined, ['unit']);
    expect(r.code).toBe(0);
    expect(r.jestLine).toContain('--runInBand');
  });

  it('runs that many files at once when set, but the lab always in band', () => {
    const r = runner('2', ['unit']);
    expect(r.code).toBe(0);
    expect(r.jestLine).toContain('--maxWorkers=2');
    expect(r.jestLine).not.toContain('--runInBand');
    expect(runner('2', ['unit', 'lab']).jestLine).toContain('--runInBand');
  });

  it('refuses a value that is not a whole number of workers, saying what it got', () => {
    const r = runner('0', ['unit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WINGMAN_TEST_WORKERS must be a whole number of workers, 1 or more, got "0"');
  });

  it("keeps a run's results folder (WINGMAN_TEST_RESULTS_DIR, the census's) from the tests it runs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-results-'));
    try {
      const r = runner(undefined, ['unit'], 'test/unit/runner-results-dir.test.ts', { WINGMAN_TEST_RESULTS_DIR: dir });
      expect(r.code).toBe(0);
      const kept = JSON.parse(readFileSync(join(dir, 'selected.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number };
      expect([kept.numPassedTests, kept.numFailedTests]).toEqual([1, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
