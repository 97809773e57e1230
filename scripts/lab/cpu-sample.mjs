/**
 * CPU over a stretch of a lab run, from /proc (the lab's namespaces share one
 * pid namespace, so any of its processes can read every other's): how busy
 * the machine was, how much of that was the lab's own hosts, and per process
 * of those hosts the CPU it used, the time its threads waited for a core
 * (schedstat's run-queue delay: a thread that wanted to run and could not),
 * and its busiest thread. So a figure says whether one core was the limit
 * (Chromium's network process or renderer, the agent's P2P host child, a
 * delay line) or the machine was (other work on the shared cores). Figures
 * are % of one core (200 % = both cores of a 2-core VM).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/** Kernel clock ticks per second (`getconf CLK_TCK`: 100 on Linux for every arch in use). */
const CLK_TCK = 100;

/**
 * @typedef {{ comm: string, ticks: number, waitNs: number }} TaskCpu
 * @typedef {{ label: string, ticks: number, threads: Map<string, TaskCpu> }} ProcCpu
 * @typedef {{ atMs: number, machine: { busy: number, total: number }, procs: Map<string, ProcCpu> }} CpuSnapshot
 * @typedef {{ label: string, pct: number, waitPct: number, busiestThread: string, busiestThreadPct: number }} CpuProcess
 * @typedef {{ machineBusyPct: number, cores: number, labPct: number, msByRole: Record<string, number>, processes: CpuProcess[] }} CpuFigures
 */

/** comm and utime + stime of /proc/<pid>/task/<tid>/stat, and its run-queue wait (schedstat); null when it is gone. */
function taskCpu(dir) {
  try {
    const text = readFileSync(`${dir}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    let waitNs = 0;
    try {
      waitNs = Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[1]) || 0;
    } catch {
      // a kernel without schedstats: no wait figure
    }
    // rest[0] is field 3 (state): utime and stime are fields 14 and 15.
    return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ticks: Number(rest[11]) + Number(rest[12]), waitNs };
  } catch {
    return null;
  }
}

/** The whole machine's busy and total jiffies (/proc/stat's `cpu` line; idle and iowait are not busy). */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/**
 * What a process is, by its command line (`argv`, or one string where the
 * process rewrote its own, as Chromium's children do) and its `comm`:
 * Chromium's process type, else the script or program it runs.
 * @param {string[]} argv
 * @param {string} comm
 */
export function processKind(argv, comm) {
  const line = argv.join(' ');
  if (/chrom/.test(comm) || /chrom/.test(basename(argv[0] ?? ''))) {
    if (/NetworkService/.test(line)) return 'chromium-network';
    const type = /--type=(\S+)/.exec(line)?.[1];
    return type ? `chromium-${type}` : 'chromium-browser';
  }
  if (argv.length === 0) return null;
  const script = argv.slice(1).find((a) => /\.(c|m)?js$/.test(a));
  return basename(script ?? argv[0]);
}

/**
 * The machine's counters and every process in one of `namespaces` (role →
 * the /proc/<pid>/ns/net link of one process in it), labelled `<role> <kind>`.
 * @param {Record<string, string>} namespaces
 * @returns {CpuSnapshot}
 */
export function cpuSnapshot(namespaces) {
  const roleOf = new Map(Object.entries(namespaces).map(([role, link]) => [link, role]));
  const procs = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let role;
    let argv;
    try {
      role = roleOf.get(readlinkSync(`/proc/${pid}/ns/net`));
      if (!role) continue;
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue; // gone, or a kernel thread
    }
    const own = taskCpu(`/proc/${pid}`);
    const kind = own && processKind(argv, own.comm);
    if (!kind) continue;
    const threads = new Map();
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const t = taskCpu(`/proc/${pid}/task/${tid}`);
        if (t) threads.set(tid, t);
      }
    } catch {
      // gone meanwhile
    }
    procs.set(pid, { label: `${role} ${kind}`, ticks: own.ticks, threads });
  }
  return { atMs: Date.now(), machine: machineTicks(), procs };
}

/** The network-namespace link of `pid` (what cpuSnapshot groups by). */
export function netnsOf(pid) {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/**
 * CPU between two snapshots: the machine's, the lab's processes' summed, and
 * per process alive in both (busiest first; those under `minPct` of CPU and
 * of waiting left out).
 * @param {CpuSnapshot} before
 * @param {CpuSnapshot} after
 * @returns {CpuFigures | null}
 */
export function cpuFigures(before, after, minPct = 5) {
  const seconds = (after.atMs - before.atMs) / 1000;
  if (seconds <= 0) return null;
  const pct = (ticks) => Math.round((ticks / CLK_TCK / seconds) * 100);
  const nsPct = (ns) => Math.round((ns / 1e9 / seconds) * 100);
  const processes = [];
  let labTicks = 0;
  /** CPU ms per host (the label's first word): what a page load cost each side, whatever the machine's load. */
  const msByRole = /** @type {Record<string, number>} */ ({});
  for (const [pid, a] of after.procs) {
    const b = before.procs.get(pid);
    if (!b) continue;
    labTicks += a.ticks - b.ticks;
    const role = a.label.split(' ')[0];
    msByRole[role] = (msByRole[role] ?? 0) + ((a.ticks - b.ticks) * 1000) / CLK_TCK;
    let busiest = { comm: '', ticks: 0 };
    let waitNs = 0;
    for (const [tid, t] of a.threads) {
      const was = b.threads.get(tid);
      if (!was) continue;
      waitNs += t.waitNs - was.waitNs;
      if (t.ticks - was.ticks > busiest.ticks) busiest = { comm: t.comm, ticks: t.ticks - was.ticks };
    }
    const p = { label: a.label, pct: pct(a.ticks - b.ticks), waitPct: nsPct(waitNs), busiestThread: busiest.comm, busiestThreadPct: pct(busiest.ticks) };
    if (p.pct >= minPct || p.waitPct >= minPct) processes.push(p);
  }
  const cores = (after.machine.total - before.machine.total) / CLK_TCK / seconds;
  const machineBusyPct = Math.round(((after.machine.busy - before.machine.busy) / CLK_TCK / seconds) * 100);
  return { machineBusyPct, cores: Math.round(cores), labPct: pct(labTicks), msByRole, processes: processes.sort((x, y) => y.pct - x.pct) };
}
