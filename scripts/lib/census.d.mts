/** Types for census.mjs (the census's parsing: options and one run's failures). */
export function parseCensusArgs(argv: string[]): { runs: number; projects: string[]; jestArgs: string[] };
export function failuresOfRun(dir: string): Array<{ test: string; error: string }>;
