/**
 * `--pin-cpus`, an experiment on how the lab shares the machine: the
 * reviewer's processes (its Chromium, its delay line) on one CPU, every other
 * process of the run (the agent, the app, the tunnel server, nginx, coturn,
 * their delay lines) on another, through `taskset`. Without it the
 * reviewer's browser and the developer's side of every mode compete for the
 * same cores, which two real machines never do; with it each side has one
 * core of its own, fewer than a real machine has. docs/lab-log.md §Shared cores.
 */

/** Set (to anything) in the lab's environment: startInNamespace pins what it starts (proc.mjs). */
export const PIN_CPUS_ENV = 'WINGMAN_LAB_PIN_CPUS';
/** The CPU of the reviewer's host namespace. */
export const REVIEWER_CPU = 0;
/** The CPU of every other namespace's processes. */
export const OTHERS_CPU = 1;

/**
 * The command and arguments that start `command` in namespace `ns`: under
 * `taskset -c <cpu>` when pinning is on (taskset execs, so the pid stays the
 * command's), unchanged otherwise.
 * @param {string} ns
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string | undefined>} [env]
 * @returns {{ command: string, args: string[] }}
 */
export function pinnedCommand(ns, command, args, env = process.env) {
  if (!env[PIN_CPUS_ENV]) return { command, args };
  const cpu = ns.endsWith('-reviewer') ? REVIEWER_CPU : OTHERS_CPU;
  return { command: 'taskset', args: ['-c', String(cpu), command, ...args] };
}

/**
 * Why pinning cannot run here, or undefined: it needs two CPUs and `taskset`.
 * @param {number} cpus
 * @param {boolean} hasTaskset
 */
export function pinProblem(cpus, hasTaskset) {
  if (cpus < 2) return `--pin-cpus needs at least 2 CPUs (this machine has ${cpus})`;
  if (!hasTaskset) return '--pin-cpus needs taskset: apt-get install util-linux';
  return undefined;
}
