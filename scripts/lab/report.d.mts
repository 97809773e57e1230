/** Types of report.mjs, for the TypeScript tests. */
export interface WanGoal {
  goal: string;
  scenario: string;
  pass: boolean | null;
  text: string;
}
export interface WanLoad {
  ms?: number;
  ready?: number;
  appDocument?: { responseEnd?: number };
}
export declare function wingmanFloor(p2pLoad: WanLoad, directLoad: WanLoad): { floor: number; ready: number; directWave: number; p2pWave: number } | undefined;
export declare function judgeWanGoals(rows: Array<Record<string, unknown>>): WanGoal[];
export declare function formatWanGoals(goals: WanGoal[]): string;
export declare function raceCut(race: unknown): { ms: number; viewer: number; agent: number } | undefined;
export declare function resumeCut(race: unknown, socketMs: number | undefined): { ms: number; viewer: number; resume: number; socketMs: number } | undefined;
