/** Types for static-checks.mjs (the code checks `npm test` runs beside its tests). */
export function runStaticChecks(root: string, signal: AbortSignal): Promise<string[]>;
