/** Types of report.mjs, for the TypeScript tests. */
export interface WanGoal {
  goal: string;
  scenario: string;
  pass: boolean | null;
  text: string;
}
export declare function judgeWanGoals(rows: Array<Record<string, unknown>>, peerRttMs: (scenario: string) => number | null): WanGoal[];
export declare function formatWanGoals(goals: WanGoal[]): string;
