#!/usr/bin/env node
/**
 * `npm test` (after `npm run build`): checks prerequisites, then re-runs itself inside a
 * loopback-only network namespace and runs jest's projects there, in steps:
 *   1. unit                      (alone, two workers)
 *   2. integration+e2e ‖ e2e     (two lanes at once, each in band), beside the type check of the
 *                                tests, the lint and the format check (lib/static-checks.mjs; only
 *                                without extra arguments, so running one test file stays quick)
 *   3. solo                      (the integration and e2e files marked `@solo`, in band, alone)
 *   4. lab                       (in band: it measures, so it has the machine to itself)
 * The unit files go alone because their tests are CPU-bound under jest's 5 s limit per test:
 * beside the code checks (~170 s of CPU) and a browser lane, a 0.3 s property test took over 5 s.
 * Step 2 runs two lanes side by side because integration and e2e tests mostly wait (on servers,
 * browsers, timers): together they keep the two cores busy (docs/testing.md). Once its
 * integration files are done the first lane takes e2e's next files: each lane claims a file
 * before it runs it (lib/jest-claim-runner.cjs), so both end together and every file runs once.
 * Integration's files (some bind fixed ports) never run in e2e's lane. A file whose
 * assertions read a process's resources (peak RSS) carries `@solo` in its first comment and
 * waits for step 3 (lib/jest-resume-sequencer.cjs sorts the files into lanes).
 * A phase whose jest process dies of a native crash (SIGSEGV…) fails; it resumes
 * with the test files not yet run only to report them, and counts the file it
 * died in as failed, naming it in the log and the summary.
 * Extra arguments go to jest in every phase: `npm test -- packages/protocol`,
 * `npm test -- -t "reset"`; `--selectProjects a b` keeps only those projects' phases.
 *
 * Why a network namespace: tests, the browser and WebRTC may only ever reach
 * loopback. In a namespace whose only interface is `lo`, nothing else exists to
 * reach, whatever a library or Chromium tries (docs/testing.md).
 *
 * Environment: WINGMAN_TEST_TIMEOUT_S — deadline for the whole run (default 4200 s,
 * so install + build + tests stay inside CI's 90 minutes);
 * WINGMAN_TEST_RESULTS_DIR — keep jest's results there (`<phase>.json`, `phases.json`; the census reads them).
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
/** jest's projects in the order `npm test` runs them (jest.config.js). */
const PROJECTS = ['unit', 'integration', 'e2e', 'lab'];
/** Test files shown by printFileCpu: the few that most of a run's CPU goes to. */
const TOP_CPU_FILES = 15;

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
  console.log(`[run-tests] entering a loopback-only network namespace (unshare ${netnsFlags.join(' ')})`);
  // `sh -c '... && exec "$0" "$@"'`: bring lo up (it starts down), then become node.
  const args = [...netnsFlags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url), ...jestArgs];
  const child = spawn('unshare', args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, [INSIDE_ENV]: '1' } });
  // The terminal's Ctrl-C reaches the child's group too; SIGTERM (CI, kill) we pass on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGINT', () => {});
  const code = await new Promise((resolveCode) => {
    child.on('error', (err) => {
      console.error(`[run-tests] could not start unshare: ${err.message}`);
      resolveCode(1);
    });
    child.on('close', (exit, signal) => resolveCode(exit ?? (signal ? 1 : 0)));
  });
  return code;
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
  // Nor does a runner started by a test inherit its lane: a phase of one file runs in band and would claim it in the outer run's folder.
  delete process.env.WINGMAN_JEST_LANE;
  delete process.env.WINGMAN_JEST_CLAIMS;
  const outputDir = keptDir ? (mkdirSync(keptDir, { recursive: true }), keptDir) : mkdtempSync(join(tmpdir(), 'wingman-jest-'));
  const claimsDir = mkdtempSync(join(tmpdir(), 'wingman-claims-'));
  const ci = process.env.CI === 'true' || process.env.CI === '1' ? ['--ci'] : [];
  let steps;
  try {
    steps = plan(jestArgs, ci, claimsDir);
  } catch (err) {
    console.error(`[run-tests] ${err.message}`);
    rmSync(claimsDir, { recursive: true, force: true });
    return 1;
  }

  // Ctrl-C / SIGTERM: the running phase is stopped by runJestPhase; later phases are not started.
  let interrupted = false;
  const stopChecks = new AbortController();
  const onSignal = () => {
    interrupted = true;
    stopChecks.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  /** @param {Phase} phase */
  const run = async (phase) => {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0 || interrupted) {
      const problem = interrupted ? 'not run: interrupted' : 'not run: deadline reached';
      return { name: phase.name, code: 1, passed: 0, failed: 0, skipped: 0, durationMs: 0, problem };
    }
    const result = await runJestPhase({ name: phase.name, root: ROOT, args: phase.args, env: phase.env, outputDir, deadlineMs: remainingMs });
    return result.crashSignal !== null && !interrupted ? resumeAfterCrash({ phase, first: result, root: ROOT, outputDir, deadline }) : result;
  };
  const results = [];
  /** @type {Promise<string[]>} */
  let checks = Promise.resolve([]);
  if (jestArgs.length > 0) console.log('[run-tests] lint and format check skipped: jest arguments given (`npm test` alone runs them)');
  try {
    const runLane = async (/** @type {Phase[]} */ lane) => {
      const out = [];
      for (const phase of lane) out.push(await run(phase));
      return out;
    };
    for (const [i, step] of steps.entries()) {
      // The checks start once the unit files are done (a full run's first step): see the header.
      if (i === 1 && jestArgs.length === 0 && !interrupted) checks = runStaticChecks(ROOT, stopChecks.signal);
      results.push(...(await Promise.all(step.map(runLane))).flat());
    }
  } finally {
    if (keptDir) writeFileSync(join(keptDir, 'phases.json'), JSON.stringify(results.map(({ crash: _crash, ...r }) => r)));
    else rmSync(outputDir, { recursive: true, force: true });
    rmSync(claimsDir, { recursive: true, force: true });
  }
  const code = summarize(results);
  const failed = await checks;
  if (failed.length === 0) return code;
  console.error(`\n[run-tests] code checks failed (their output is above):\n${failed.join('\n')}`);
  return 1;
}

/**
 * @typedef {object} Phase one jest process
 * @property {string} name its name in the summary and its results file (`<name>.json`)
 * @property {string[]} args
 * @property {Record<string, string>} env
 */

/**
 * The run's steps, in order: the lanes of one step run at the same time, the phases of a lane one after the other.
 * @param {string[]} args the user's jest arguments
 * @param {string[]} ci `--ci` on CI
 * @param {string} claimsDir the folder where the shared lanes claim their files
 * @returns {Phase[][][]}
 */
function plan(args, ci, claimsDir) {
  const { projects, rest } = splitProjects(args);
  const unknown = projects.filter((p) => !PROJECTS.includes(p));
  if (unknown.length > 0) throw new Error(`--selectProjects: no project ${unknown.join(', ')} (there are ${PROJECTS.join(', ')})`);
  const has = (p) => projects.includes(p);
  // The user's arguments go first: `--selectProjects` takes every following word as a project name.
  const phase = (name, chosen, extra, env = {}) => ({ name, args: [...rest, ...ci, ...extra, '--selectProjects', ...chosen], env });
  const lanes = ['integration', 'e2e'].filter(has);
  // Both lanes claim each file before they run it (lib/jest-claim-runner.cjs): integration's lane, its own files done, takes e2e's next ones.
  const env = { WINGMAN_JEST_LANE: 'shared', WINGMAN_JEST_CLAIMS: claimsDir };
  const shared = lanes.map((p) => (p === 'integration' ? lanes : [p])).map((chosen) => [phase(chosen.join('+'), chosen, ['--runInBand'], env)]);
  return [
    has('unit') ? [[phase('unit', ['unit'], ['--maxWorkers=2'])]] : [],
    shared,
    lanes.length > 0 ? [[phase('solo', lanes, ['--runInBand'], { WINGMAN_JEST_LANE: 'solo' })]] : [],
    has('lab') && lab ? [[phase('lab', ['lab'], ['--runInBand'])]] : [],
  ].filter((step) => step.length > 0);
}

/**
 * The projects named after `--selectProjects` (up to the next option; all without it) and the other arguments.
 * @param {string[]} args
 */
function splitProjects(args) {
  const at = args.findIndex((a) => a === '--selectProjects' || a.startsWith('--selectProjects='));
  if (at < 0) return { projects: PROJECTS, rest: args };
  if (args[at].includes('=')) return { projects: args[at].slice(args[at].indexOf('=') + 1).split(','), rest: args.toSpliced(at, 1) };
  const after = args.slice(at + 1);
  const end = after.findIndex((a) => a.startsWith('-'));
  const count = end < 0 ? after.length : end;
  return { projects: after.slice(0, count), rest: args.toSpliced(at, count + 1) };
}

/**
 * Where the in-band phases' CPU went: their total, and the files that used the most
 * (jest's process and what it reaped while each file ran; lib/jest-progress-reporter.cjs).
 * @param {import('./lib/jest-phase.mjs').JestPhaseResult[]} results
 */
function printFileCpu(results) {
  const files = results.flatMap((r) => r.fileCpu.map((f) => ({ ...f, phase: r.name })));
  if (files.length === 0) return;
  const total = files.reduce((n, f) => n + f.cpuMs, 0);
  console.log(
    `\n[run-tests] CPU of the ${files.length} test files run in band: ${(total / 1000).toFixed(0)} s; the ${Math.min(TOP_CPU_FILES, files.length)} that used the most`,
  );
  for (const f of files.sort((a, b) => b.cpuMs - a.cpuMs).slice(0, TOP_CPU_FILES)) {
    console.log(`  ${(f.cpuMs / 1000).toFixed(1).padStart(6)} s  ${(((100 * f.cpuMs) / total).toFixed(1) + ' %').padStart(6)}  ${f.file} (${f.phase})`);
  }
}

/**
 * Prints one line per phase and the closing `N passed, N failed` line.
 * @param {import('./lib/jest-phase.mjs').JestPhaseResult[]} results
 */
function summarize(results) {
  printFileCpu(results);
  console.log('\n[run-tests] summary');
  for (const r of results) {
    const status = r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`;
    const note = r.problem ? ` — ${r.problem}` : '';
    console.log(
      `  ${r.name.padEnd(22)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed ${String(r.skipped).padStart(4)} skipped  ${(r.durationMs / 1000).toFixed(1)} s  ${status}${note}`,
    );
  }
  // Named last, beside the counts: a log cut to its tail still says which tests failed.
  const failures = results.flatMap((r) => r.failures.map((f) => ({ ...f, phase: r.name })));
  if (failures.length > 0) console.log('\n[run-tests] failed tests');
  for (const f of failures) console.log(`  ${f.phase}: ${f.test}\n      ${f.error}`);
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
