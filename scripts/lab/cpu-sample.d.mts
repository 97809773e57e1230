/** Types of cpu-sample.mjs, for the TypeScript tests. */
export interface TaskCpu {
  comm: string;
  ticks: number;
  waitNs: number;
}
export interface ProcCpu {
  label: string;
  ticks: number;
  threads: Map<string, TaskCpu>;
}
export interface CpuSnapshot {
  atMs: number;
  machine: { busy: number; total: number };
  procs: Map<string, ProcCpu>;
}
export interface CpuProcess {
  /** `<host role> <kind>`: Chromium's process type, else the script or program. */
  label: string;
  /** CPU used, % of one core. */
  pct: number;
  /** Its threads' time waiting for a core (run-queue delay, summed), % of the stretch. */
  waitPct: number;
  busiestThread: string;
  busiestThreadPct: number;
}
export interface CpuFigures {
  /** The whole machine's busy time, % of one core (200 = both cores of a 2-core VM). */
  machineBusyPct: number;
  cores: number;
  /** The lab's own processes summed, % of one core. */
  labPct: number;
  /** CPU ms per host (the namespace's role: reviewer, dev, server), every process of it counted. */
  msByRole: Record<string, number>;
  processes: CpuProcess[];
}
export declare function processKind(argv: string[], comm: string): string | null;
export declare function cpuSnapshot(namespaces: Record<string, string>): CpuSnapshot;
export declare function netnsOf(pid: number): string;
export declare function cpuFigures(before: CpuSnapshot, after: CpuSnapshot, minPct?: number): CpuFigures | null;
