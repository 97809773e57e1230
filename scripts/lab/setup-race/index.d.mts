/** Types of index.mjs, for the TypeScript tests. */
export interface RaceDesign {
  trials: number;
  failed: number;
  medians: Record<string, number | null>;
  samples: Array<Record<string, number>>;
}
export interface SetupRace {
  delayMs: number;
  designs: Record<string, RaceDesign>;
  error: string | null;
}
export declare const SETUP_RACE_TRIALS: number;
export declare const RACE_MARKS: string[];
export declare function raceFigures(lines: Array<{ design: string; marks?: Record<string, number>; error?: string }>): Record<string, RaceDesign>;
export declare function formatSetupRace(race: SetupRace): string;
