export const FIGURES: Array<[key: string, label: string, higherIsBetter: boolean]>;
export function abLines(rows: Array<Record<string, unknown>>): string[];
