/** Types for jest-resume.mjs (resuming a jest phase after a native crash). */
import type { JestPhaseResult } from './jest-phase.mjs';

export function resumeAfterCrash(options: {
  phase: { name: string; args: string[]; env?: Record<string, string> };
  first: JestPhaseResult;
  root: string;
  outputDir: string;
  deadline: number;
}): Promise<JestPhaseResult>;
