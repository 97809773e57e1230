/** Types of repeats.mjs, for the TypeScript tests. */
export declare function median(values: Array<number | null | undefined>): number | null;
export declare function medianRows(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>>;
