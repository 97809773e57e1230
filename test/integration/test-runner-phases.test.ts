/**
 * The runner's phases (scripts/run-tests.mjs): the real runner (already inside this suite's
 * loopback-only namespace, so it does not enter another) on one small unit file, read from the
 * jest command lines it prints (as on CI: `CI=true` adds `--ci`) and the results it keeps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const FILE = 'packages/protocol/test/unit/backoff.test.ts';

function runner(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, WINGMAN_TEST_NETNS: '1', CI: 'true', ...extraEnv },
    encoding: 'utf8',
    timeout: 120_000,
  });
  /** Each phase's jest arguments, by phase name, as printed. */
  const jest = new Map([...r.stdout.matchAll(/\[run-tests\] (\S+): jest (.*)/g)].map((m) => [m[1]!, m[2]!]));
  return { code: r.status, jest, stdout: r.stdout, stderr: r.stderr };
}

describe('the test runner', () => {
  it("runs the unit files alone, then integration's and e2e's in one lane beside e2e (in band, the shared lane), then their solo files, then the lab's alone (it measures)", () => {
    const r = runner([FILE]);
    expect(r.code).toBe(0);
    // In the order they start: the unit files, then integration (then e2e's files the e2e lane has not claimed) beside e2e.
    expect([...r.jest.keys()]).toEqual(['unit', 'integration+e2e', 'e2e', 'solo', 'lab']);
    expect(r.jest.get('unit')).toBe(`${FILE} --ci --maxWorkers=2 --selectProjects unit`);
    expect(r.jest.get('integration+e2e')).toBe(`${FILE} --ci --runInBand --selectProjects integration e2e`);
    expect(r.jest.get('e2e')).toBe(`${FILE} --ci --runInBand --selectProjects e2e`);
    expect(r.jest.get('solo')).toBe(`${FILE} --ci --runInBand --selectProjects integration e2e`);
    expect(r.jest.get('lab')).toBe(`${FILE} --ci --runInBand --selectProjects lab`);
    expect(r.stdout).toContain('wingman: 2 passed, 0 failed');
  });

  it('runs the selected projects only, and takes no lane from a run that started it', () => {
    // The same file as above: a phase of one file runs in band, and had it inherited this run's lane it would find the file claimed.
    const r = runner([FILE, '--selectProjects', 'unit']);
    expect([...r.jest.keys()]).toEqual(['unit']);
    expect(r.stdout).toContain('wingman: 2 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  it('refuses a project jest.config.js does not have, naming the ones it has', () => {
    const r = runner([FILE, '--selectProjects', 'unit', 'intgration']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--selectProjects: no project intgration (there are unit, integration, e2e, lab)');
  });

  it("keeps a run's results folder (WINGMAN_TEST_RESULTS_DIR, the census's) from the tests it runs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-results-'));
    try {
      const r = runner(['test/unit/runner-results-dir.test.ts', '--selectProjects', 'unit'], { WINGMAN_TEST_RESULTS_DIR: dir });
      expect(r.code).toBe(0);
      const kept = JSON.parse(readFileSync(join(dir, 'unit.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number };
      expect([kept.numPassedTests, kept.numFailedTests]).toEqual([1, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
