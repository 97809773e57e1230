/** Types of counter-delta.mjs, for the TypeScript tests. */
export declare function counterDelta<T>(after: T, before: unknown): T;
