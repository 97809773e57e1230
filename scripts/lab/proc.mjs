/**
 * A process started inside a lab namespace (`ip netns exec <ns> <cmd>`, which
 * execs, so the child's pid is the command's own), through
 * scripts/lib/spawn-ready.mjs: its output lines are kept (the last ones
 * explain a failure), JSON lines on stdout become events one can wait for,
 * each wait with a timeout, and stop() ends it and its process group.
 */
import { spawnProcess } from '../lib/spawn-ready.mjs';
import { pinnedCommand } from './cpu-pin.mjs';

/** A process that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 3_000;

/**
 * @typedef {import('../lib/spawn-ready.d.mts').ManagedProcess} LabProcess
 * waitFor(predicate, timeoutMs, what) and waitForLine(predicate, timeoutMs, what)
 * look at stdout, including what it printed before the wait began.
 */

/**
 * @param {{ name: string, ns: string, command: string, args: string[], env?: Record<string, string | undefined>, cwd?: string, onEvent?: (e: Record<string, unknown>) => void }} options
 *   onEvent: each JSON line the process prints on stdout (every one: `events` keeps only the latest)
 * @returns {LabProcess}
 */
export function startInNamespace({ name, ns, command, args, env = process.env, cwd, onEvent }) {
  // --pin-cpus (cpu-pin.mjs): under taskset, by the namespace's side.
  const run = pinnedCommand(ns, command, args);
  return spawnProcess({
    name,
    command: 'ip',
    args: ['netns', 'exec', ns, run.command, ...run.args],
    env,
    cwd,
    stopGraceMs: STOP_GRACE_MS,
    ...(onEvent ? { onEvent } : {}),
  });
}
