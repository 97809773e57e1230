#!/usr/bin/env node
/**
 * `npm test` (after `npm run build`): checks prerequisites, lints and checks the
 * formatting (lib/static-checks.mjs; only without extra arguments, so running
 * one test file stays quick), then re-runs itself inside a loopback-only
 * network namespace and runs every jest project there:
 *   1. unit                      (jest's default workers)
 *   2. integration, e2e          (in band, or WINGMAN_TEST_WORKERS files at a time)
 *   3. lab                       (in band: it measures, so it has the machine to itself)
 * A phase whose jest process dies of a native crash (SIGSEGV…) fails; it resumes
 * with the test files not yet run only to report them, and counts the file it
 * died in as failed, naming it in the log and the summary.
 * Extra arguments go to jest: `npm test -- packages/protocol`, `npm test -- -t "reset"`.
 * With `--selectProjects` among them, jest runs once with exactly those arguments (in band
 * when the lab is among the projects).
 *
 * Why a network namespace: tests, the browser and WebRTC may only ever reach
 * loopback. In a namespace whose only interface is `lo`, nothing else exists to
 * reach, whatever a library or Chromium tries (docs/testing.md).
 *
 * Environment: WINGMAN_TEST_TIMEOUT_S — deadline for the whole run (default 4200 s,
 * so install + build + tests stay inside CI's 90 minutes); WINGMAN_TEST_WORKERS — test
 * files of integration and e2e run at once (default 1: in band; docs/testing.md says why);
 * WINGMAN_TEST_RESULTS_DIR — keep jest's results there (the census reads them).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJestPhase } from './lib/jest-phase.mjs';
import { resumeAfterCrash } from './lib/jest-resume.mjs';
import { checkTestPrerequisites, hasTestDir } from './lib/prereqs.mjs';
import { runStaticChecks } from './lib/static-checks.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Set on the re-executed copy that already runs inside the namespace. */
const INSIDE_ENV = 'WINGMAN_TEST_NETNS';
const DEFAULT_TIMEOUT_S = 4200;
/** A folder to keep jest's results in (`<phase>.json`, `phases.json`) instead of a temporary one. */
const RESULTS_DIR_ENV = 'WINGMAN_TEST_RESULTS_DIR';
const WORKERS_ENV = 'WINGMAN_TEST_WORKERS';
const DEFAULT_WORKERS = 1;

const jestArgs = process.argv.slice(2);
const lab = hasTestDir(ROOT, 'lab');

if (process.env[INSIDE_ENV] === '1') {
  process.exitCode = await runInside();
} else {
  process.exitCode = await enterNamespace();
}

/** Checks prerequisites, then runs this script again under `unshare`. */
async function enterNamespace() {
  const { problems, netnsFlags } = checkTestPrerequisites({ root: ROOT, lab });
  if (problems.length > 0 || netnsFlags === null) {
    console.error('[run-tests] cannot run the test suite; missing prerequisites:');
    for (const p of problems) console.error(`  - ${p}`);
    console.error(
      '[run-tests] on Debian/Ubuntu as root: apt-get install chromium firefox-esr webkit2gtk-driver xvfb python3-django python3-flask python3-tornado iproute2 util-linux coturn iptables gcc redis-server openssl libnss3-tools caddy pebble curl nginx',
    );
    return 1;
  }
  if (jestArgs.length > 0) {
    console.log('[run-tests] lint and format check skipped: jest arguments given (`npm test` alone runs them)');
  } else if (!runStaticChecks(ROOT)) {
    return 1;
  }
  console.log(`[run-tests] entering a loopback-only network namespace (unshare ${netnsFlags.join(' ')})`);
  // `sh -c '... && exec "$0" "$@"'`: bring lo up (it starts down), then become node.
  const args = [...netnsFlags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url), ...jestArgs];
  const child = spawn('unshare', args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, [INSIDE_ENV]: '1' } });
  // The terminal's Ctrl-C reaches the child's group too; SIGTERM (CI, kill) we pass on.
  const forward = () => child.kill('SIGTERM');
  process.on('SIGTERM', forward);
  process.on('SIGINT', () => {});
  return new Promise((resolveCode) => {
    child.on('error', (err) => {
      console.error(`[run-tests] could not start unshare: ${err.message}`);
      resolveCode(1);
    });
    child.on('close', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}

/** Runs the jest phases; returns the exit code. */
async function runInside() {
  const interfaces = Object.keys(networkInterfaces());
  if (interfaces.some((name) => name !== 'lo')) {
    console.error(`[run-tests] refusing to run: expected only "lo" in the namespace, found ${interfaces.join(', ')}`);
    return 1;
  }
  const timeoutS = Number(process.env.WINGMAN_TEST_TIMEOUT_S ?? DEFAULT_TIMEOUT_S);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    console.error(`[run-tests] WINGMAN_TEST_TIMEOUT_S must be a positive number of seconds, got "${process.env.WINGMAN_TEST_TIMEOUT_S}"`);
    return 1;
  }
  const deadline = Date.now() + timeoutS * 1000;
  // The census (scripts/census.mjs) keeps each run's jest results in a folder of its own.
  const keptDir = process.env[RESULTS_DIR_ENV];
  // This run's alone: a test that starts the runner itself would write its own results over this run's.
  delete process.env[RESULTS_DIR_ENV];
  const outputDir = keptDir ? (mkdirSync(keptDir, { recursive: true }), keptDir) : mkdtempSync(join(tmpdir(), 'wingman-jest-'));
  const ci = process.env.CI === 'true' || process.env.CI === '1' ? ['--ci'] : [];
  const workers = Number(process.env[WORKERS_ENV] ?? DEFAULT_WORKERS);
  if (!Number.isInteger(workers) || workers < 1) {
    console.error(`[run-tests] ${WORKERS_ENV} must be a whole number of workers, 1 or more, got "${process.env[WORKERS_ENV]}"`);
    return 1;
  }
  // jest runs in band by itself when a phase has a single test file.
  const parallel = workers === 1 ? ['--runInBand'] : [`--maxWorkers=${workers}`];
  const inBand = ['--runInBand'];

  // The user's arguments go first: `--selectProjects` takes every following
  // word as a project name, so a path after it would be swallowed.
  const selected = selectedProjects(jestArgs);
  const phases = selected
    ? [{ name: 'selected', args: [...jestArgs, ...ci, ...(selected.includes('lab') ? inBand : parallel)] }]
    : [
        { name: 'unit', args: [...jestArgs, ...ci, '--selectProjects', 'unit'] },
        { name: 'integration+e2e', args: [...jestArgs, ...ci, ...parallel, '--selectProjects', 'integration', 'e2e'] },
        ...(lab ? [{ name: 'lab', args: [...jestArgs, ...ci, ...inBand, '--selectProjects', 'lab'] }] : []),
      ];

  // Ctrl-C / SIGTERM: the running phase is stopped by runJestPhase; later phases are not started.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results = [];
  try {
    for (const phase of phases) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || interrupted) {
        const problem = interrupted ? 'not run: interrupted' : 'not run: deadline reached';
        results.push({ name: phase.name, code: 1, passed: 0, failed: 0, skipped: 0, durationMs: 0, problem });
        continue;
      }
      const result = await runJestPhase({ name: phase.name, root: ROOT, args: phase.args, outputDir, deadlineMs: remainingMs });
      results.push(result.crashSignal !== null && !interrupted ? await resumeAfterCrash({ phase, first: result, root: ROOT, outputDir, deadline }) : result);
    }
  } finally {
    if (keptDir) writeFileSync(join(keptDir, 'phases.json'), JSON.stringify(results.map(({ crash: _crash, ...r }) => r)));
    else rmSync(outputDir, { recursive: true, force: true });
  }
  return summarize(results);
}

/**
 * The projects named after `--selectProjects` (up to the next option), or null without it.
 * @param {string[]} args
 */
function selectedProjects(args) {
  const at = args.findIndex((a) => a === '--selectProjects' || a.startsWith('--selectProjects='));
  if (at < 0) return null;
  if (args[at].includes('=')) return args[at].slice(args[at].indexOf('=') + 1).split(',');
  const rest = args.slice(at + 1);
  const end = rest.findIndex((a) => a.startsWith('-'));
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * Prints one line per phase and the closing `N passed, N failed` line.
 * @param {import('./lib/jest-phase.mjs').JestPhaseResult[]} results
 */
function summarize(results) {
  console.log('\n[run-tests] summary');
  for (const r of results) {
    const status = r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`;
    const note = r.problem ? ` — ${r.problem}` : '';
    console.log(
      `  ${r.name.padEnd(22)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed ${String(r.skipped).padStart(4)} skipped  ${(r.durationMs / 1000).toFixed(1)} s  ${status}${note}`,
    );
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  let code = results.some((r) => r.code !== 0) ? 1 : 0;
  if (passed + failed === 0) {
    console.error('[run-tests] no test ran: check the path or pattern you passed');
    code = 1;
  }
  console.log(`\nwingman: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  return code;
}
