/**
 * Resuming a jest phase after jest itself died of a native crash (SIGSEGV…:
 * @roamhq/wrtc runs inside jest for the Node-viewer P2P tests).
 */
import { relative } from 'node:path';
import { runJestPhase } from './jest-phase.mjs';

/** Attempts of one phase after crashes, the first included. */
const MAX_ATTEMPTS = 4;

/**
 * jest itself died of a native crash (no test failed: the process vanished).
 * Its progress log says which test files finished (their counts are kept) and
 * which one was running: the phase resumes with the files not yet finished,
 * and says so loudly, naming the file, in the log and in the summary line. A
 * file that crashes jest twice counts as a failed file and is not run again;
 * any failure, or crashes past MAX_ATTEMPTS, still fail the run.
 * @param {object} o
 * @param {{ name: string, args: string[] }} o.phase
 * @param {import('./jest-phase.mjs').JestPhaseResult} o.first the attempt that crashed
 * @param {string} o.root repository root (jest's cwd)
 * @param {string} o.outputDir
 * @param {number} o.deadline epoch ms
 * @returns {Promise<import('./jest-phase.mjs').JestPhaseResult>}
 */
export async function resumeAfterCrash({ phase, first, root, outputDir, deadline }) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  /** @type {Set<string>} */
  const done = new Set();
  /** @type {Map<string, number>} test file → crashes while it ran */
  const crashedIn = new Map();
  const notes = [];
  let durationMs = 0;
  let attempt = first;
  for (let n = 1; ; n++) {
    durationMs += attempt.durationMs;
    if (attempt.crash === null || attempt.crashSignal === null) {
      // Ended without a crash: its results cover the files it ran.
      totals.passed += attempt.passed;
      totals.failed += attempt.failed;
      totals.skipped += attempt.skipped;
      if (attempt.problem) notes.push(attempt.problem);
      break;
    }
    for (const [file, counts] of attempt.crash.finished) {
      done.add(file);
      totals.passed += counts.passed;
      totals.failed += counts.failed;
      totals.skipped += counts.skipped;
    }
    const where = attempt.crash.running ? `in ${relative(root, attempt.crash.running)}` : 'between two test files';
    let note = `jest died of ${attempt.crashSignal} ${where} (a native crash inside the jest process)`;
    if (attempt.crash.running) {
      const times = (crashedIn.get(attempt.crash.running) ?? 0) + 1;
      crashedIn.set(attempt.crash.running, times);
      if (times >= 2) {
        done.add(attempt.crash.running);
        totals.failed += 1;
        note += ', the second time: counted as a failed file';
      }
    }
    notes.push(note);
    const remainingMs = deadline - Date.now();
    if (n >= MAX_ATTEMPTS || remainingMs <= 0) {
      notes.push(n >= MAX_ATTEMPTS ? `${n} crashes: not resumed again` : 'no time left to resume');
      return { ...attempt, ...totals, code: 1, durationMs, problem: notes.join('; '), crashSignal: attempt.crashSignal };
    }
    console.error(`\n[run-tests] ${phase.name}: ${note}; resuming with the test files not yet finished`);
    attempt = await runJestPhase({ name: phase.name, root, args: phase.args, outputDir, deadlineMs: remainingMs, skipFiles: [...done] });
  }
  const failedByCrash = [...crashedIn.values()].some((times) => times >= 2);
  // A test that failed in an attempt before a crash fails the phase too, whatever the resumed attempt did.
  const code = attempt.code !== 0 || failedByCrash || totals.failed > 0 ? 1 : 0;
  return { ...attempt, ...totals, code, durationMs, problem: `${notes.join('; ')}; resumed`, crashSignal: null };
}
