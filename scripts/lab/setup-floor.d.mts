/** Types of setup-floor.mjs, for the TypeScript tests. */
export declare const PEER_ROUND_TRIPS: number;
export interface WanDelays {
  reviewerServer: { rttMs: number };
  devServer: { rttMs: number };
  reviewerDev: { rttMs: number };
}
export interface SetupStep {
  name: string;
  ms: number;
  floorMs: number;
}
export interface SetupFloor {
  floorMs: number;
  readyMs: number;
  steps: SetupStep[];
}
export declare function setupFloor(
  wan: WanDelays | undefined,
  load: { timeline?: Record<string, number>; shellDocument?: { responseEnd?: number | null } },
  firstVisit: boolean,
): SetupFloor | undefined;
export declare function formatSetupFloor(f: SetupFloor): string;
