/**
 * A jest reporter that appends one JSON line per test file to the file named by
 * WINGMAN_JEST_PROGRESS as the run goes: `{"start": path}` when a file starts,
 * `{"done": path, "passed", "failed", "skipped", "failedTests"}` when it ends. When a native
 * crash kills the jest process (no --json results), this log still says which
 * files finished, with their counts, and which file was running
 * (scripts/lib/jest-phase.mjs reads it). Without the variable it does nothing.
 * In band (tests run in this process), each "done" line also carries `cpuMs`: the CPU this
 * process and the processes it reaped (the servers, agents and browsers a test started and
 * stopped) used while the file ran, so a run says which files its CPU went to.
 */
'use strict';
const { appendFileSync, readFileSync } = require('node:fs');

/** Clock ticks per second of /proc's process times (USER_HZ, 100 on Linux whatever the kernel's HZ). */
const USER_HZ = 100;

/** CPU ms of this process and its reaped children (utime, stime, cutime, cstime of /proc/self/stat); undefined off Linux. */
function treeCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After the command's ")", fields from the state (3rd) on: utime is the 14th field.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

class ProgressReporter {
  /** @param {{ maxWorkers: number }} globalConfig */
  constructor(globalConfig) {
    this.file = process.env.WINGMAN_JEST_PROGRESS || null;
    // With workers, a file's CPU is spent in a worker this process reaps only at the end.
    this.inBand = globalConfig.maxWorkers === 1;
    this.cpuAtStart = undefined;
  }

  /** @param {unknown} line */
  write(line) {
    // Synchronous on purpose: the line must be on disk before a crash can come.
    if (this.file) appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }

  onTestFileStart(test) {
    this.cpuAtStart = this.inBand ? treeCpuMs() : undefined;
    this.write({ start: test.path });
  }

  onTestFileResult(test, result) {
    const cpu = this.cpuAtStart === undefined ? undefined : treeCpuMs();
    this.write({
      done: test.path,
      passed: result.numPassingTests,
      // A file that fails to load has no failed tests; count it as one.
      failed: result.numFailingTests + (result.testExecError ? 1 : 0),
      skipped: result.numPendingTests + result.numTodoTests,
      failedTests: result.testResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
      ...(cpu !== undefined ? { cpuMs: Math.round(cpu - this.cpuAtStart) } : {}),
    });
  }

  getLastError() {
    return undefined;
  }
}

module.exports = ProgressReporter;
