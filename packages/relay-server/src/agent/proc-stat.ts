/** What /proc/<pid>/stat says of a process (Linux): its state letter and start time. */
import { readFileSync } from 'node:fs';

interface ProcStat {
  /** Field 3: R, S, D, … ; Z a zombie (exited, not reaped by its parent), X dead. */
  state: string;
  /** Field 22: start time in clock ticks since boot; with the pid, names one process. */
  start: string;
}

/** The process's stat fields; undefined off Linux or when the process is gone. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}
