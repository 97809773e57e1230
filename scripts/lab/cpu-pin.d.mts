export const PIN_CPUS_ENV: string;
export const REVIEWER_CPU: number;
export const OTHERS_CPU: number;
export function pinnedCommand(ns: string, command: string, args: string[], env?: Record<string, string | undefined>): { command: string; args: string[] };
export function pinProblem(cpus: number, hasTaskset: boolean): string | undefined;
