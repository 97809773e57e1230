/**
 * The shared lanes' claims (scripts/lib/jest-claim-runner.cjs): two real in-band jest runs over
 * one small project at the same time, as the runner's two lanes, sharing a claims folder.
 * Every file runs exactly once between them, and their counts add up to the project's.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runJestPhase } from '../../scripts/lib/jest-phase.mjs';

const ROOT = resolve(__dirname, '../..');
const FILES = 6;

describe("the shared lanes' claims", () => {
  it('run each test file in exactly one of two lanes that list the same files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-claims-test-'));
    try {
      const ran = join(dir, 'ran.log');
      for (let i = 0; i < FILES; i++) {
        // Each file logs that it ran, then waits a little for the other lane to take the next one.
        const body = `test('f${i}', async () => { require('node:fs').appendFileSync(${JSON.stringify(ran)}, 'f${i}\\n'); await new Promise((r) => setTimeout(r, 200)); });\n`;
        writeFileSync(join(dir, `f${i}.test.js`), body);
      }
      appendFileSync(ran, '');
      const claims = join(dir, 'claims');
      mkdirSync(claims);
      const out = join(dir, 'out');
      mkdirSync(out);
      const config = { rootDir: dir, testMatch: ['<rootDir>/*.test.js'], testEnvironment: 'node', transform: {}, cacheDirectory: join(dir, 'cache') };
      const lane = (name: string) =>
        runJestPhase({
          name,
          root: ROOT,
          args: ['--config', JSON.stringify(config), '--runInBand', '--ci'],
          outputDir: out,
          deadlineMs: 120_000,
          env: { WINGMAN_JEST_CLAIMS: claims },
        });
      const [a, b] = await Promise.all([lane('a'), lane('b')]);
      const lines = readFileSync(ran, 'utf8').split('\n').filter(Boolean);
      expect([...lines].sort()).toEqual(Array.from({ length: FILES }, (_, i) => `f${i}`));
      expect([a.code, b.code, a.failed + b.failed, a.passed + b.passed]).toEqual([0, 0, 0, FILES]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
