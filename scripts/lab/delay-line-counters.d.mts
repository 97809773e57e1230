/** Types of delay-line-counters.mjs, for the TypeScript tests. */
export interface DelayLineRef {
  role: 'server' | 'reviewer' | 'dev';
  pid: number;
  statsFile: string;
}
export interface DelayLineRule {
  dst: string;
  matched: number;
  written: number;
  lost: number;
  queueFull: number;
}
export interface DelayLineStats {
  dump: number;
  read: number;
  written: number;
  lost: number;
  queueFull: number;
  unmatched: number;
  rules: DelayLineRule[];
}
export declare function parseDelayLineStats(text: string): DelayLineStats;
export declare function readDelayLine(ref: DelayLineRef): Promise<DelayLineStats>;
export declare function readDelayLines(refs: DelayLineRef[]): Promise<Record<string, DelayLineStats | null>>;
