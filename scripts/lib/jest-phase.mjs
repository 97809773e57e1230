/**
 * Runs one jest invocation with two watchdogs and returns its counts:
 * - a deadline for the whole phase, so a hung test cannot eat CI's 90 minutes;
 * - a grace period after jest has written its results: jest waits forever for
 *   handles a test left open (@roamhq/wrtc is known to leave native handles,
 *   docs/testing.md), so after the grace we report that loudly and stop it,
 *   keeping the results it already wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedTests } from './jest-failures.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Logs each test file's start and end, so a crash leaves a record of what finished. */
const PROGRESS_REPORTER = join(HERE, 'jest-progress-reporter.cjs');
/** jest's order less the files named in WINGMAN_JEST_SKIP: resuming after a crash. */
const RESUME_SEQUENCER = join(HERE, 'jest-resume-sequencer.cjs');
/** jest's runner, which in band with WINGMAN_JEST_CLAIMS runs only the files it claims first. */
const CLAIM_RUNNER = join(HERE, 'jest-claim-runner.cjs');

/** After the results file appears, jest normally exits within a second or two. */
export const EXIT_GRACE_MS = 15_000;

/** How often we look for the results file; cheap and coarse on purpose. */
const POLL_INTERVAL_MS = 500;

/**
 * Signals of a native crash of the jest process itself (not our stop, which
 * is SIGTERM / SIGKILL). Native WebRTC stays out of the jest process, so
 * such a crash is a defect and fails the phase.
 */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL', 'SIGFPE']);

/** Time for jest and its workers to stop after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/**
 * @typedef {object} JestPhaseOptions
 * @property {string} name label printed in the summary, e.g. "unit"
 * @property {string} root repository root (jest's cwd)
 * @property {string[]} args jest arguments (projects, filters, --runInBand)
 * @property {string} outputDir directory for jest's JSON results
 * @property {number} deadlineMs the phase is stopped after this long
 * @property {string[]} [skipFiles] test files not to run (absolute paths): those
 *   an earlier attempt of the phase finished before it crashed
 * @property {Record<string, string>} [env] variables for jest on top of this process's
 *   (the runner's WINGMAN_JEST_LANE)
 */

/**
 * @typedef {object} FileCounts
 * @property {number} passed
 * @property {number} failed
 * @property {number} skipped
 * @property {string[]} [failedTests] the failing tests' full names
 * @property {number} [cpuMs] in band, the CPU of jest and the processes it reaped while the file ran
 */

/**
 * @typedef {object} CrashRecord what the progress log says of a crashed attempt
 * @property {Map<string, FileCounts>} finished test files that ended, with their counts
 * @property {string | null} running the test file that was running when jest
 *   died (null: between two files)
 */

/**
 * @typedef {object} JestPhaseResult
 * @property {string} name
 * @property {number} code jest's exit code (or 1 when it was stopped or wrote no results)
 * @property {number} passed
 * @property {number} failed tests that failed plus suites that crashed before running
 * @property {number} skipped
 * @property {Array<{ test: string, error: string }>} failures the failing tests, named, with the first lines of their error
 * @property {number} durationMs
 * @property {string | null} problem why the phase did not end normally
 * @property {string | null} crashSignal the signal jest itself died of (a native
 *   crash, e.g. SIGSEGV), when that is why it wrote no results
 * @property {CrashRecord | null} crash with crashSignal: which files had finished
 * @property {Array<{ file: string, cpuMs: number }>} fileCpu in band, each finished file's CPU (FileCounts.cpuMs), its path from the root
 */

/**
 * @param {JestPhaseOptions} options
 * @returns {Promise<JestPhaseResult>}
 */
export function runJestPhase({ name, root, args, outputDir, deadlineMs, skipFiles = [], env: extraEnv = {} }) {
  const outputFile = join(outputDir, `${name}.json`);
  const progressFile = join(outputDir, `${name}.progress`);
  const skipFile = join(outputDir, `${name}.skip`);
  for (const f of [outputFile, progressFile, skipFile]) rmSync(f, { force: true });
  const env = { ...process.env, ...extraEnv, WINGMAN_JEST_PROGRESS: progressFile };
  if (skipFiles.length > 0) {
    writeFileSync(skipFile, `${skipFiles.join('\n')}\n`);
    env.WINGMAN_JEST_SKIP = skipFile;
  }
  const jestBin = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const fullArgs = [
    jestBin,
    ...args,
    '--passWithNoTests',
    '--json',
    `--outputFile=${outputFile}`,
    '--reporters=default',
    `--reporters=${PROGRESS_REPORTER}`,
    `--testSequencer=${RESUME_SEQUENCER}`,
    `--runner=${CLAIM_RUNNER}`,
  ];
  const started = Date.now();
  const resuming = skipFiles.length > 0 ? ` (leaving out the ${skipFiles.length} files already run)` : '';
  console.log(`\n[run-tests] ${name}: jest ${args.join(' ')}${resuming}`);

  return new Promise((resolve) => {
    // Own process group, so a stop reaches jest's workers and the processes tests spawned.
    const child = spawn(process.execPath, fullArgs, { cwd: root, stdio: 'inherit', detached: true, env });
    let problem = null;
    let resultsSeenAt = 0;

    const stopGroup = () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return; // already gone
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, KILL_GRACE_MS).unref();
    };

    const poll = setInterval(() => {
      const now = Date.now();
      if (now - started > deadlineMs && problem === null) {
        problem = `stopped after ${Math.round(deadlineMs / 1000)} s (deadline; a test is hanging)`;
        console.error(`\n[run-tests] ${name}: ${problem}`);
        stopGroup();
        return;
      }
      if (resultsSeenAt === 0 && existsSync(outputFile)) resultsSeenAt = now;
      if (resultsSeenAt !== 0 && now - resultsSeenAt > EXIT_GRACE_MS && problem === null) {
        problem =
          `jest did not exit ${EXIT_GRACE_MS / 1000} s after finishing: a test left a server, socket, ` +
          'timer or child process open (find it with: npx jest --detectOpenHandles <file>)';
        console.error(`\n[run-tests] ${name}: ${problem}`);
        stopGroup();
      }
    }, POLL_INTERVAL_MS);

    const forward = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);

    child.on('error', (err) => {
      problem = `could not start jest: ${err.message}`;
    });
    child.on('close', (exitCode, signal) => {
      clearInterval(poll);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const durationMs = Date.now() - started;
      const counts = readCounts(outputFile, root);
      const progress = readProgress(progressFile);
      const fileCpu = [...progress.finished]
        .filter(([, c]) => c.cpuMs !== undefined)
        .map(([file, c]) => ({ file: relative(root, file), cpuMs: /** @type {number} */ (c.cpuMs) }));
      if (counts === null) {
        const crashed = problem === null && CRASH_SIGNALS.has(signal);
        // What the tests started (agents, servers, Chromium) outlives a crashed
        // jest in its process group: stop it before anything else runs.
        if (crashed) stopGroup();
        resolve({
          name,
          code: exitCode || 1,
          passed: 0,
          failed: 0,
          skipped: 0,
          failures: [],
          durationMs,
          problem: problem ?? `jest exited (${exitCode ?? signal}) without writing results`,
          crashSignal: crashed ? signal : null,
          crash: crashed ? progress : null,
          fileCpu,
        });
        return;
      }
      // Stopped only for not exiting: the results it wrote are complete and decide the code.
      // Crashed on its way out: the results are complete too, and the crash fails the phase.
      const crashedLate = problem === null && CRASH_SIGNALS.has(signal);
      if (crashedLate) problem = `jest died of ${signal} after writing its results`;
      const stoppedLate = problem !== null && problem.startsWith('jest did not exit');
      const code = crashedLate ? 1 : stoppedLate ? (counts.success ? 0 : 1) : (exitCode ?? 1);
      resolve({ name, code, ...counts, durationMs, problem, crashSignal: null, crash: null, fileCpu });
    });
  });
}

/**
 * Reads jest's --json results; null when missing or unreadable.
 * @param {string} file
 * @param {string} root
 */
function readCounts(file, root) {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    return {
      passed: r.numPassedTests ?? 0,
      // A suite that fails to load (syntax error, throw in beforeAll) has no failed tests; count it.
      failed: (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0),
      skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
      success: r.success === true,
      failures: failedTests(r, root),
    };
  } catch {
    return null;
  }
}

/**
 * Reads the progress reporter's log: the files that ended, and the one that
 * had started without ending.
 * @param {string} file
 * @returns {CrashRecord}
 */
function readProgress(file) {
  /** @type {Map<string, FileCounts>} */
  const finished = new Map();
  let running = null;
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  for (const line of lines) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // empty, or cut short by the crash
    }
    if (typeof entry.start === 'string') running = entry.start;
    if (typeof entry.done === 'string') {
      finished.set(entry.done, {
        passed: entry.passed ?? 0,
        failed: entry.failed ?? 0,
        skipped: entry.skipped ?? 0,
        failedTests: entry.failedTests ?? [],
        ...(typeof entry.cpuMs === 'number' ? { cpuMs: entry.cpuMs } : {}),
      });
      if (running === entry.done) running = null;
    }
  }
  return { finished, running };
}
