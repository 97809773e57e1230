/**
 * Child processes of the bench: each one is spawned with its stdout going to a
 * file, waited on for a JSON (or text) line that says it is ready, and
 * registered so that every exit path (normal end, error, Ctrl-C, SIGTERM)
 * kills it.
 *
 * Why a file and not a pipe: the agent prints a line per request, and on Linux
 * a Node process writes to a pipe synchronously. Piped into the bench, whose
 * event loop is busy generating load, a full pipe would stall the agent and
 * the bench would measure its own reading speed. A file never blocks the writer.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A child that ignores SIGTERM this long gets SIGKILL. */
const KILL_GRACE_MS = 3000;
/** Stderr kept per child for error messages (the tail is what explains a crash). */
const STDERR_TAIL_CHARS = 8000;
/** How often a waiter looks at the stdout file for its line. */
const POLL_MS = 20;
/** Ready lines come first; a waiter reads no further than this into the file. */
const MAX_SCAN_BYTES = 1024 * 1024;

const live = new Set();
let outDir;
let seq = 0;

/**
 * Spawns `process.execPath args` and returns a handle.
 * @param {string} name label used in error messages
 * @param {string[]} args node arguments (script first)
 * @param {{ env?: Record<string,string>, cwd?: string }} [options]
 */
export function spawnNode(name, args, options = {}) {
  outDir ??= mkdtempSync(join(tmpdir(), 'wingman-bench-'));
  const outFile = join(outDir, `${++seq}-${name.replace(/[^a-z0-9]+/gi, '-')}.out`);
  const outFd = openSync(outFile, 'w+');
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', outFd, 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL_CHARS)));
  child.on('error', () => {}); // reported through 'exit' / waitLine rejections
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));

  /** Complete lines in the first MAX_SCAN_BYTES of stdout. */
  const readLines = () => {
    const buf = Buffer.alloc(MAX_SCAN_BYTES);
    const n = readSync(outFd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
  };

  const handle = {
    name,
    child,
    stderr: () => stderr,
    /** Up to `max` stdout lines that are not per-request logs (for diagnostics). */
    notableOutput(max = 20) {
      return readLines().filter((l) => !l.includes('"event":"request"')).slice(-max);
    },
    /**
     * Resolves with match(line) for the first stdout line where it is not undefined.
     * @template T
     * @param {(line: string) => T | undefined} match
     * @param {number} timeoutMs
     * @returns {Promise<T>}
     */
    waitLine(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const poll = () => {
          const lines = readLines();
          for (const line of lines) {
            const found = match(line);
            if (found !== undefined) return resolve(found);
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            return reject(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready; stderr:\n${stderr}`));
          }
          if (Date.now() > deadline) return reject(new Error(`${name}: no ready line within ${timeoutMs} ms; output:\n${lines.join('\n')}\nstderr:\n${stderr}`));
          setTimeout(poll, POLL_MS);
        };
        poll();
      });
    },
    /** Resolves with the first stdout line that parses as JSON with `event === eventName`. */
    waitEvent(eventName, timeoutMs) {
      return handle.waitLine((line) => {
        try {
          const e = JSON.parse(line);
          return e && e.event === eventName ? e : undefined;
        } catch {
          return undefined;
        }
      }, timeoutMs);
    },
    async kill() {
      if (!live.has(handle)) return;
      live.delete(handle);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      closeSync(outFd);
      rmSync(outFile, { force: true });
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
  for (const h of live) {
    try {
      h.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}
