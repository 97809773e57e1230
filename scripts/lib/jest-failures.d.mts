/** Types for jest-failures.mjs (the failing tests of one jest --json results object). */
export function failedTests(results: unknown, root: string): Array<{ test: string; error: string }>;
