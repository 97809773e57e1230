/** Types for jest-phase.mjs (one jest invocation with watchdogs) and jest-resume.mjs. */
export interface FileCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** the failing tests' full names (a crashed attempt's finished files) */
  failedTests?: string[];
  /** in band, the CPU of jest and the processes it reaped while the file ran */
  cpuMs?: number;
}

export interface CrashRecord {
  finished: Map<string, FileCounts>;
  running: string | null;
}

export interface JestPhaseResult extends FileCounts {
  name: string;
  /** the failing tests, named, with their first error line */
  failures: Array<{ test: string; error: string }>;
  code: number;
  durationMs: number;
  problem: string | null;
  crashSignal: string | null;
  crash: CrashRecord | null;
  /** in band, each finished file's CPU, its path from the root */
  fileCpu: Array<{ file: string; cpuMs: number }>;
}

export interface JestPhaseOptions {
  name: string;
  root: string;
  args: string[];
  outputDir: string;
  deadlineMs: number;
  skipFiles?: string[];
  env?: Record<string, string>;
}

export const EXIT_GRACE_MS: number;
export function runJestPhase(options: JestPhaseOptions): Promise<JestPhaseResult>;
