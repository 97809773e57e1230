/**
 * Processes as /proc shows them: a process's children, and the CPU time of
 * all its threads, from /proc/<pid>/task/<tid>/schedstat (its first field:
 * ns on a CPU), which is finer than /proc/<pid>/stat's utime + stime (10 ms
 * ticks, too coarse for a few thousand requests of ~100 µs).
 *
 * /proc must be the one of this process's PID namespace: inside the bench's
 * namespace `unshare --mount-proc` mounts it (lib/netns.mjs); there a
 * child's pid as spawn() returns it names the same process in /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Tasks (threads) of `pid`; [] when the process is gone. */
function tasks(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Children of `pid` (forked from any of its threads), from /proc. */
export function childPids(pid) {
  const pids = [];
  for (const tid of tasks(pid)) {
    try {
      pids.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return pids;
}

/** CPU time of all of a process's threads so far, ns. Throws when the process is gone. */
export function cpuNs(pid) {
  const tids = tasks(pid);
  if (tids.length === 0) throw new Error(`process ${pid} is gone`);
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return ns;
}

/** Throws unless /proc/self is this process (a /proc of another PID namespace names other processes). */
function checkProcIsOurs() {
  const self = Number(readFileSync('/proc/self/stat', 'utf8').split(' ')[0]);
  if (self !== process.pid) {
    throw new Error(
      `/proc belongs to another PID namespace (/proc/self is ${self}, this process is ${process.pid}): mount this namespace's (unshare --mount-proc)`,
    );
  }
}

/**
 * @typedef {{ name: string, pid: number }} MeteredProcess
 * @typedef {{ requests: number, processes: Array<MeteredProcess & { usPerRequest: number }> } | { error: string }} CpuPerRequest
 */

/**
 * CPU µs per request of each of `procs` over a window: start() when the
 * counted requests begin, stop(requests) when they end. Never throws: a
 * failure is the result's `error`, so the load's own figures still count.
 * @param {MeteredProcess[]} procs
 */
export function createCpuMeter(procs) {
  let before;
  let error;
  return {
    start() {
      try {
        checkProcIsOurs();
        before = procs.map((p) => cpuNs(p.pid));
      } catch (err) {
        error = String(err?.message ?? err);
      }
    },
    /** @returns {CpuPerRequest} */
    stop(requests) {
      if (error === undefined && before === undefined) error = 'the meter was never started';
      if (error === undefined && !(requests > 0)) error = 'no request completed';
      if (error !== undefined) return { error };
      try {
        return { requests, processes: procs.map((p, i) => ({ ...p, usPerRequest: (cpuNs(p.pid) - before[i]) / 1000 / requests })) };
      } catch (err) {
        return { error: String(err?.message ?? err) };
      }
    },
  };
}
