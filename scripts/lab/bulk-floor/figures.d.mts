/** Types of figures.mjs, for the TypeScript tests. */
export declare const FLOOR_PEER_COUNTS: number[];
export declare const FLOOR_FIGURES: Array<[string, number]>;
export declare function formatFloor(floor: Record<string, unknown> | undefined, dir: 'down' | 'up'): string;
