/** Types of floor-sw.mjs, for the TypeScript tests. */
export declare const FLOOR_SW_PATH: string;
export declare const FLOOR_SHELL_SW_PATH: string;
export declare const FLOOR_SW_SOURCE: string;
export declare const FLOOR_SHELL_SW_SOURCE: string;
export declare const FLOOR_WORKERS: ReadonlyArray<readonly [string, string]>;
