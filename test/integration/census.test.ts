/**
 * The census (scripts/census.mjs): its options, and what it reads of one run —
 * a real nested jest over a small project with one failing test, its results
 * kept as the runner keeps them for the census.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { failuresOfRun, parseCensusArgs } from '../../scripts/lib/census.mjs';
import { runJestPhase } from '../../scripts/lib/jest-phase.mjs';

const ROOT = resolve(__dirname, '../..');

describe('the census', () => {
  it('takes runs, projects and passes the rest to jest', () => {
    expect(parseCensusArgs([])).toEqual({ runs: 5, projects: ['integration', 'e2e'], jestArgs: [] });
    expect(parseCensusArgs(['--runs', '3', '--only', 'e2e', 'test/integration/census.test.ts', '-t', 'name'])).toEqual({
      runs: 3,
      projects: ['e2e'],
      jestArgs: ['test/integration/census.test.ts', '-t', 'name'],
    });
    expect(() => parseCensusArgs(['--runs', '0'])).toThrow(/--runs takes a whole number/);
    expect(() => parseCensusArgs(['--only', 'e2e,browsers'])).toThrow(/--only takes a comma-separated list/);
  });

  it("lists each failing test of a run with the first lines of its error, and the run's failed phase", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-census-'));
    try {
      writeFileSync(join(dir, 'a.test.js'), "test('passes', () => {});\ntest('fails', () => { throw new Error('the reason'); });\n");
      writeFileSync(join(dir, 'b.test.js'), "throw new Error('b does not load');\n");
      const config = { rootDir: dir, testMatch: ['<rootDir>/*.test.js'], testEnvironment: 'node', transform: {}, cacheDirectory: join(dir, 'cache') };
      const out = join(dir, 'out');
      mkdirSync(out);
      const phase = await runJestPhase({
        name: 'e2e',
        root: ROOT,
        args: ['--config', JSON.stringify(config), '--runInBand', '--ci'],
        outputDir: out,
        deadlineMs: 120_000,
      });
      // The runner's summary names them from the phase's own record.
      expect(phase.failures.map((f) => f.test).sort()).toEqual(
        [`${relative(ROOT, join(dir, 'a.test.js'))} › fails`, `${relative(ROOT, join(dir, 'b.test.js'))} (the file)`].sort(),
      );
      writeFileSync(join(out, 'phases.json'), JSON.stringify([{ ...phase, crash: undefined, problem: 'jest exited 1' }]));
      const failures = failuresOfRun(out);
      const a = relative(ROOT, join(dir, 'a.test.js'));
      const b = relative(ROOT, join(dir, 'b.test.js'));
      // jest orders files by size when it has no timings: compare as a set.
      expect(failures).toHaveLength(3);
      expect(failures).toEqual(
        expect.arrayContaining([
          { test: `${b} (the file)`, error: expect.stringContaining('b does not load') as string },
          { test: `${a} › fails`, error: 'Error: the reason' },
          { test: '(the run: e2e)', error: 'jest exited 1' },
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
