/** Types of stalls.mjs, for the TypeScript tests. */
export declare const STALL_FACTOR: number;
export declare const STALL_MARGIN_MS: number;
export interface StallFigures {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
  thresholdMs: number | null;
  stalled: number;
  stalledExcessMs: number;
  slowest: Array<{ name: string; ms: number }>;
}
export declare function stallFigures(requests: Array<{ name: string; ms: number }>): StallFigures;
