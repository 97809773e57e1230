/** Types of transport-report.mjs, for the TypeScript tests. */
export declare const TRANSPORT_FIGURES: Array<[string, number]>;
export declare function describePhase(phase: Record<string, unknown>): string;
export declare function formatTransportLines(rows: Array<Record<string, unknown>>): string;
