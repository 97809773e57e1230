/** Types of bundle-budget.mjs, for the TypeScript tests. */
export declare const SHELL_INLINE_MAX_GZIP_BYTES: number;
export declare function gzippedBytes(text: string): number;
export declare function checkBundleBudget(name: string, text: string, maxGzipBytes?: number): number;
