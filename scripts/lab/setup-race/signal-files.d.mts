/** Types of signal-files.mjs, for the TypeScript tests. */
export declare function writeMessage(dir: string, from: string, trial: number, seq: number, msg: unknown): void;
export declare function messageReader(dir: string, from: string, trial: number, delayMs: number): { next(): unknown };
export declare function writeJsonFile(file: string, value: unknown): void;
