#!/usr/bin/env node
/**
 * `npm run test:census -- --runs 5 --only integration,e2e [jest paths or -t …]`:
 * builds once, then runs the chosen jest projects N times back to back, each
 * run a fresh `scripts/run-tests.mjs` in its own loopback-only namespace, and
 * prints every test that failed in any run with its rate and its first error
 * line. Exits 1 when any run failed. A flaky test is a bug to root-cause: the
 * census finds it, it never re-runs a failure to make it pass.
 *
 * Options:
 *   --runs N       runs of the chosen projects (default 5)
 *   --only a,b     jest projects: unit, integration, e2e, lab (default integration,e2e)
 *   anything else  passed to jest (test paths, `-t <name>`)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failuresOfRun, parseCensusArgs } from './lib/census.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Set by SIGTERM or Ctrl-C: the run going on is stopped (the runner gets the signal too) and no other starts. */
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));

/**
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @returns {Promise<number>}
 */
function runOnce(args, env) {
  return new Promise((resolveCode) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'run-tests.mjs'), ...args], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
    // Ctrl-C reaches the runner's process group by itself; SIGTERM (kill, CI) is passed on.
    const forward = () => child.kill('SIGTERM');
    process.once('SIGTERM', forward);
    child.on('close', (code) => {
      process.off('SIGTERM', forward);
      resolveCode(code ?? 1);
    });
  });
}

async function main() {
  let options;
  try {
    options = parseCensusArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`[census] ${err.message}`);
    return 2;
  }
  const { runs, projects, jestArgs } = options;
  if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) {
    console.error('[census] the build failed');
    return 1;
  }
  const top = mkdtempSync(join(tmpdir(), 'wingman-census-'));
  /** @type {Map<string, { count: number, error: string, runs: number[] }>} */
  const byTest = new Map();
  const codes = [];
  try {
    for (let run = 1; run <= runs && !stopping; run++) {
      const started = Date.now();
      console.log(`\n[census] run ${run} of ${runs}: ${projects.join(', ')}`);
      const dir = join(top, `run-${run}`);
      const code = await runOnce([...jestArgs, '--selectProjects', ...projects], { WINGMAN_TEST_RESULTS_DIR: dir });
      codes.push(code);
      for (const f of code === 0 ? [] : failuresOfRun(dir)) {
        const entry = byTest.get(f.test) ?? { count: 0, error: f.error, runs: [] };
        entry.count += 1;
        entry.runs.push(run);
        byTest.set(f.test, entry);
      }
      console.log(`[census] run ${run}: exit ${code} after ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
  const failedRuns = codes.filter((c) => c !== 0).length;
  const stopped = codes.length < runs ? `; stopped after ${codes.length} runs` : '';
  console.log(
    `\n[census] ${codes.length - failedRuns} of ${runs} runs passed (${projects.join(', ')}${jestArgs.length ? ` ${jestArgs.join(' ')}` : ''}${stopped})`,
  );
  for (const [test, { count, error, runs: which }] of [...byTest].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`  ${count}/${runs}  ${test}  (runs ${which.join(', ')})\n        ${error}`);
  }
  return failedRuns === 0 && stopped === '' ? 0 : 1;
}

process.exitCode = await main();
