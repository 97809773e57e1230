/** Types of proc.mjs, for the TypeScript tests. */
export interface MeteredProcess {
  name: string;
  pid: number;
}
export type CpuPerRequest = { requests: number; processes: Array<MeteredProcess & { usPerRequest: number }> } | { error: string };
export interface CpuMeter {
  start(): void;
  stop(requests: number): CpuPerRequest;
}
export declare function childPids(pid: number): number[];
export declare function cpuNs(pid: number): number;
export declare function createCpuMeter(procs: MeteredProcess[]): CpuMeter;
