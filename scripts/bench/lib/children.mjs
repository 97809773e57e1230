/**
 * Child processes of the bench, through scripts/lib/spawn-ready.mjs: each one
 * is spawned with its stdout going to a file, waited on for a JSON (or text)
 * line that says it is ready, and registered so that every exit path (normal
 * end, error, Ctrl-C, SIGTERM) kills it and its process group.
 *
 * Why a file and not a pipe: the agent prints a line per request, and on Linux
 * a Node process writes to a pipe synchronously. Piped into the bench, whose
 * event loop is busy generating load, a full pipe would stall the agent and
 * the bench would measure its own reading speed. A file never blocks the
 * writer, and the bench reads it only while it waits for a ready line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProcess } from '../../lib/spawn-ready.mjs';

/** A child that ignores SIGTERM this long gets SIGKILL. */
const KILL_GRACE_MS = 3000;

const live = new Set();
let outDir;
let seq = 0;
/** Node options put before the script of every child (diagnostics such as --cpu-prof, which NODE_OPTIONS refuses). */
let nodeOptions = [];

/** @param {string[]} options for every child spawned from now on */
export function setChildNodeOptions(options) {
  nodeOptions = [...options];
}

/**
 * Spawns `process.execPath args` and returns a handle.
 * @param {string} name label used in error messages
 * @param {string[]} args node arguments (script first)
 * @param {{ env?: Record<string,string>, cwd?: string }} [options]
 */
export function spawnNode(name, args, options = {}) {
  outDir ??= mkdtempSync(join(tmpdir(), 'wingman-bench-'));
  const outFile = join(outDir, `${++seq}-${name.replace(/[^a-z0-9]+/gi, '-')}.out`);
  const proc = spawnProcess({
    name,
    command: process.execPath,
    args: [...nodeOptions, ...args],
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdoutFile: outFile,
    removeStdoutFile: true,
    stopGraceMs: KILL_GRACE_MS,
  });

  const handle = {
    name,
    child: proc.child,
    stderr: proc.stderr,
    /** Up to `max` stdout lines that are not per-request logs (for diagnostics). */
    notableOutput(max = 20) {
      return proc
        .stdoutLines()
        .filter((l) => !l.includes('"event":"request"'))
        .slice(-max);
    },
    /**
     * Resolves with match(line) for the first stdout line where it is not undefined.
     * @template T
     * @param {(line: string) => T | undefined} match
     * @param {number} timeoutMs
     * @returns {Promise<T>}
     */
    waitLine(match, timeoutMs) {
      return proc.waitForMatch((line, _event, stream) => (stream === 'stdout' ? match(line) : undefined), { timeoutMs, what: 'its ready line' });
    },
    /** Resolves with the first stdout line that parses as JSON with `event === eventName`. */
    waitEvent(eventName, timeoutMs) {
      return proc.waitForEvent(eventName, { timeoutMs });
    },
    async kill() {
      if (!live.has(handle)) return;
      live.delete(handle);
      await proc.stop();
    },
    /** Synchronous SIGKILL of the child's process group. */
    killNow() {
      if (proc.child.pid === undefined) return;
      try {
        process.kill(-proc.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
  live.add(handle);
  return handle;
}

/** Kills every child still alive (in parallel; each is bounded by KILL_GRACE_MS). */
export async function killAllChildren() {
  await Promise.all([...live].map((h) => h.kill()));
}

/** Synchronous last resort for process 'exit': SIGKILL whatever is left. */
export function killAllChildrenNow() {
  for (const h of live) h.killNow();
  live.clear();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}

/**
 * Kills every child on Ctrl-C, SIGTERM, an uncaught error, exit, and past `timeoutS` when given: they run in
 * process groups of their own, so a signal that stops the bench reaches none of them.
 * @param {(msg: string) => void} log
 * @param {number} [timeoutS]
 */
export function killChildrenOnExit(log, timeoutS) {
  const bail = (why, code) => {
    log(why);
    const hard = setTimeout(() => {
      killAllChildrenNow();
      process.exit(code);
    }, KILL_GRACE_MS + 2000);
    killAllChildren().finally(() => {
      clearTimeout(hard);
      process.exit(code);
    });
  };
  process.on('SIGINT', () => bail('interrupted: stopping every process the bench started', 130));
  process.on('SIGTERM', () => bail('terminated: stopping every process the bench started', 143));
  process.on('uncaughtException', (err) => bail(`uncaught error: ${err?.stack ?? err}`, 1));
  process.on('unhandledRejection', (err) => bail(`unhandled rejection: ${err?.stack ?? err}`, 1));
  process.on('exit', killAllChildrenNow);
  if (timeoutS !== undefined) setTimeout(() => bail(`deadline of ${timeoutS} s passed: stopping`, 1), timeoutS * 1000).unref();
}
