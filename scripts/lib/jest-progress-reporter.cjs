/**
 * A jest reporter that appends one JSON line per test file to the file named by
 * WINGMAN_JEST_PROGRESS as the run goes: `{"start": path}` when a file starts,
 * `{"done": path, "passed", "failed", "skipped", "failedTests"}` when it ends. When a native
 * crash kills the jest process (no --json results), this log still says which
 * files finished, with their counts, and which file was running
 * (scripts/lib/jest-phase.mjs reads it). Without the variable it does nothing.
 */
'use strict';
const { appendFileSync } = require('node:fs');

class ProgressReporter {
  constructor() {
    this.file = process.env.WINGMAN_JEST_PROGRESS || null;
  }

  /** @param {unknown} line */
  write(line) {
    // Synchronous on purpose: the line must be on disk before a crash can come.
    if (this.file) appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }

  onTestFileStart(test) {
    this.write({ start: test.path });
  }

  onTestFileResult(test, result) {
    this.write({
      done: test.path,
      passed: result.numPassingTests,
      // A file that fails to load has no failed tests; count it as one.
      failed: result.numFailingTests + (result.testExecError ? 1 : 0),
      skipped: result.numPendingTests + result.numTodoTests,
      failedTests: result.testResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
    });
  }

  getLastError() {
    return undefined;
  }
}

module.exports = ProgressReporter;
