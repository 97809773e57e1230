/**
 * Resuming a jest phase after jest itself died of a native crash (SIGSEGV…).
 * No test loads native WebRTC in the jest process (test/unit/no-wrtc-in-jest.test.ts),
 * so a crash is a defect: the phase fails, and resuming only tells what the
 * other files would have done.
 */
import { relative } from 'node:path';
import { runJestPhase } from './jest-phase.mjs';

/** Attempts of one phase after crashes, the first included. */
const MAX_ATTEMPTS = 4;

/**
 * jest itself died of a native crash (no test failed: the process vanished).
 * Its progress log says which test files finished (their counts are kept) and
 * which one was running: that file counts as one failed file and is not run
 * again (running it again would be retrying until green), and the phase
 * resumes with the files not yet run, naming the file jest died in, in the log
 * and in the summary line. The phase fails whatever the resumed attempts do.
 * @param {object} o
 * @param {{ name: string, args: string[], env?: Record<string, string> }} o.phase
 * @param {import('./jest-phase.mjs').JestPhaseResult} o.first the attempt that crashed
 * @param {string} o.root repository root (jest's cwd)
 * @param {string} o.outputDir
 * @param {number} o.deadline epoch ms
 * @returns {Promise<import('./jest-phase.mjs').JestPhaseResult>}
 */
export async function resumeAfterCrash({ phase, first, root, outputDir, deadline }) {
  const totals = { passed: 0, failed: 0, skipped: 0, failures: [], fileCpu: [] };
  /** @type {Set<string>} */
  const done = new Set();
  const notes = [];
  let durationMs = 0;
  let attempt = first;
  for (let n = 1; ; n++) {
    durationMs += attempt.durationMs;
    totals.fileCpu.push(...attempt.fileCpu);
    if (attempt.crash === null || attempt.crashSignal === null) {
      // Ended without a crash: its results cover the files it ran.
      totals.passed += attempt.passed;
      totals.failed += attempt.failed;
      totals.skipped += attempt.skipped;
      totals.failures.push(...attempt.failures);
      if (attempt.problem) notes.push(attempt.problem);
      break;
    }
    for (const [file, counts] of attempt.crash.finished) {
      done.add(file);
      totals.passed += counts.passed;
      totals.failed += counts.failed;
      totals.skipped += counts.skipped;
      for (const t of counts.failedTests ?? []) totals.failures.push({ test: `${relative(root, file)} › ${t}`, error: '(before jest crashed)' });
    }
    if (attempt.crash.running) {
      done.add(attempt.crash.running);
      totals.failed += 1;
      totals.failures.push({ test: `${relative(root, attempt.crash.running)} (the file)`, error: `jest died of ${attempt.crashSignal} while it ran` });
    }
    const where = attempt.crash.running ? `in ${relative(root, attempt.crash.running)} (counted as a failed file)` : 'between two test files';
    const note = `jest died of ${attempt.crashSignal} ${where}`;
    notes.push(note);
    const remainingMs = deadline - Date.now();
    if (n >= MAX_ATTEMPTS || remainingMs <= 0) {
      notes.push(n >= MAX_ATTEMPTS ? `${n} crashes: not resumed again` : 'no time left to resume');
      return { ...attempt, ...totals, code: 1, durationMs, problem: notes.join('; '), crashSignal: attempt.crashSignal };
    }
    console.error(`\n[run-tests] ${phase.name}: ${note}; resuming with the test files not yet run, to report them`);
    attempt = await runJestPhase({ name: phase.name, root, args: phase.args, env: phase.env, outputDir, deadlineMs: remainingMs, skipFiles: [...done] });
  }
  return { ...attempt, ...totals, code: 1, durationMs, problem: `${notes.join('; ')}; resumed (the crash fails the run)`, crashSignal: null };
}
