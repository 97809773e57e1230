/** Types of prereqs.mjs, for the TypeScript tests. */
export declare const CHROMIUM_PATH: string;
export declare function hasCommand(name: string): boolean;
export declare function isRoot(): boolean;
