/**
 * The test runner after jest itself dies of a native crash: a real nested jest
 * over three small test files, the middle one killing its process with SIGSEGV.
 * The phase counts the file it died in as failed (never runs it again), resumes
 * with the files that had not run to report them, keeps the counts of those that
 * had, names the file, and fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { runJestPhase } from '../../scripts/lib/jest-phase.mjs';
import { resumeAfterCrash } from '../../scripts/lib/jest-resume.mjs';

const ROOT = resolve(__dirname, '../..');

/** Writes the three test files; `crashes` is how many runs of b.test.js crash before it would pass; `aFails`: a2 fails. */
function project(dir: string, crashes: number, aFails = false): string[] {
  const counter = join(dir, 'b-runs');
  // Jest orders files it has no timings for by size, largest first: a, b, c.
  writeFileSync(
    join(dir, 'a.test.js'),
    `${'// padding\n'.repeat(200)}test('a1', () => {});\ntest('a2', () => { ${aFails ? "throw new Error('a2 fails');" : ''} });\n`,
  );
  writeFileSync(
    join(dir, 'b.test.js'),
    `${'// pad\n'.repeat(60)}const fs = require('fs');
test('b', () => {
  const runs = fs.existsSync(${JSON.stringify(counter)}) ? Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) : 0;
  fs.writeFileSync(${JSON.stringify(counter)}, String(runs + 1));
  if (runs < ${crashes}) process.kill(process.pid, 'SIGSEGV');
});
`,
  );
  writeFileSync(join(dir, 'c.test.js'), `test('c', () => {});\n`);
  const config = { rootDir: dir, testMatch: ['<rootDir>/*.test.js'], testEnvironment: 'node', transform: {}, cacheDirectory: join(dir, 'cache') };
  return ['--config', JSON.stringify(config), '--runInBand', '--ci'];
}

describe('the test runner after a native crash of jest', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wingman-resume-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(crashes: number, aFails = false) {
    const args = project(dir, crashes, aFails);
    const outputDir = join(dir, 'out');
    rmSync(outputDir, { recursive: true, force: true });
    mkdirSync(outputDir);
    const phase = { name: 'nested', args };
    const first = await runJestPhase({ ...phase, root: ROOT, outputDir, deadlineMs: 120_000 });
    return { first, final: await resumeAfterCrash({ phase, first, root: ROOT, outputDir, deadline: Date.now() + 120_000 }) };
  }

  it('fails the phase, counts the file jest died in as failed without running it again, and reports the rest', async () => {
    const { first, final } = await run(1);
    expect(first.crashSignal).toBe('SIGSEGV');
    expect(first.crash?.running).toBe(join(dir, 'b.test.js'));
    expect([...(first.crash?.finished.keys() ?? [])]).toEqual([join(dir, 'a.test.js')]);
    // a's two tests counted once (from the crashed attempt), b as one failed file, c from the resumed attempt.
    expect(final).toMatchObject({ code: 1, passed: 3, failed: 1 });
    expect(final.failures).toEqual([{ test: `${relative(ROOT, join(dir, 'b.test.js'))} (the file)`, error: 'jest died of SIGSEGV while it ran' }]);
    expect(final.problem).toContain(`SIGSEGV in ${relative(ROOT, join(dir, 'b.test.js'))}`);
    expect(final.problem).toContain('the crash fails the run');
    // b ran once: the crash was not retried.
    expect(readFileSync(join(dir, 'b-runs'), 'utf8')).toBe('1');
  }, 180_000);

  it('keeps the failures of the attempt before the crash', async () => {
    const { first, final } = await run(1, true);
    expect(first.crash?.running).toBe(join(dir, 'b.test.js'));
    expect(final).toMatchObject({ code: 1, passed: 2, failed: 2 });
    expect(final.failures.map((f) => f.test)).toEqual([
      `${relative(ROOT, join(dir, 'a.test.js'))} › a2`,
      `${relative(ROOT, join(dir, 'b.test.js'))} (the file)`,
    ]);
  }, 180_000);

  it('keeps the results jest wrote when it crashes on its way out, and fails the phase', async () => {
    const args = project(dir, 0);
    // On exit, after the results file is written, jest's process kills itself as a native crash would.
    writeFileSync(join(dir, 'crash-on-exit.js'), `module.exports = () => { process.once('exit', () => process.kill(process.pid, 'SIGSEGV')); };\n`);
    const config = JSON.parse(args[1]!) as Record<string, unknown>;
    args[1] = JSON.stringify({ ...config, globalSetup: join(dir, 'crash-on-exit.js') });
    const outputDir = join(dir, 'out');
    mkdirSync(outputDir);
    const result = await runJestPhase({ name: 'nested', args, root: ROOT, outputDir, deadlineMs: 120_000 });
    expect(result).toMatchObject({ code: 1, passed: 4, failed: 0, crashSignal: null, problem: 'jest died of SIGSEGV after writing its results' });
  }, 180_000);
});
