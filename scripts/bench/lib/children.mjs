/**
 * Child processes of the bench: each one is spawned with piped output, waited
 * on for a JSON (or text) line that says it is ready, and registered so that
 * every exit path (normal end, error, Ctrl-C, SIGTERM) kills it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child that ignores SIGTERM this long gets SIGKILL. */
const KILL_GRACE_MS = 3000;
/** Stderr kept per child for error messages (the tail is what explains a crash). */
const STDERR_TAIL_CHARS = 8000;

const live = new Set();

/**
 * Spawns `process.execPath args` and returns a handle.
 * @param {string} name label used in error messages
 * @param {string[]} args node arguments (script first)
 * @param {{ env?: Record<string,string>, cwd?: string }} [options]
 */
export function spawnNode(name, args, options = {}) {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const lines = [];
  const waiters = [];
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL_CHARS)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (lines.length < 1000) lines.push(line);
    for (const w of [...waiters]) {
      const found = w.match(line);
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  });
  child.on('error', () => {}); // reported through 'exit' / waitLine rejections
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));

  const handle = {
    name,
    child,
    stderr: () => stderr,
    /**
     * Resolves with match(line) for the first line where it is not undefined.
     * @template T
     * @param {(line: string) => T | undefined} match
     * @param {number} timeoutMs
     * @returns {Promise<T>}
     */
    waitLine(match, timeoutMs) {
      for (const line of lines) {
        const found = match(line);
        if (found !== undefined) return Promise.resolve(found);
      }
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (v) => (clearTimeout(timer), resolve(v)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${name}: no ready line within ${timeoutMs} ms; output:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        }, timeoutMs);
        waiters.push(w);
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready; stderr:\n${stderr}`));
        });
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
      live.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(timer);
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
}
