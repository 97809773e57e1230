/** Types for jest-phase.mjs (one jest invocation with watchdogs) and jest-resume.mjs. */
export interface FileCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** the failing tests' full names (a crashed attempt's finished files) */
  failedTests?: string[];
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
