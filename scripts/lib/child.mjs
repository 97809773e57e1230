/**
 * A bin of ours as a child process, for the quick start: JSON lines on stdout
 * become events we can wait for (each wait with a timeout), the last lines of
 * output are kept to explain a failure, and stop() ends it for sure
 * (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Lines of output kept per child, printed when it fails. */
const TAIL_LINES = 40;
/** A bin that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 5_000;

/**
 * @typedef {object} ChildOptions
 * @property {string} name short label for messages, e.g. "server"
 * @property {string} bin absolute path of the built bin (dist/bin/*.js)
 * @property {string[]} args its arguments
 * @property {Record<string, string | undefined>} [env] environment (default: ours)
 * @property {boolean} [verbose] echo every output line, prefixed with the name
 * @property {(line: string) => void} [onStderr] called for every stderr line (the bins' messages for humans)
 * @property {(event: Record<string, unknown>) => void} [onEvent] called for every JSON line
 */

/**
 * @typedef {object} Child
 * @property {import('node:child_process').ChildProcess} process
 * @property {(predicate: (e: Record<string, unknown>) => boolean, timeoutMs: number, what: string) => Promise<Record<string, unknown>>} waitFor
 * @property {() => string} tail last lines of output
 * @property {Promise<{ code: number | null, signal: string | null }>} exited
 * @property {() => Promise<void>} stop
 */

/**
 * Starts a bin with the current Node.js. Throws when the bin is not built.
 * @param {ChildOptions} options
 * @returns {Child}
 */
export function startChild({ name, bin, args, env = process.env, verbose = false, onStderr, onEvent }) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: run npm run build first`);
  }
  // Own process group: the terminal's Ctrl-C reaches only us, and we stop the
  // children in order (agent first, so its session closes cleanly).
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // If we die abruptly, do not leave the children running on their ports.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const lines = [];
  const events = [];
  const waiters = new Set();

  const remember = (line) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    if (verbose) process.stderr.write(`[${name}] ${line}\n`);
  };
  createInterface({ input: child.stderr }).on('line', (line) => {
    remember(line);
    try {
      onStderr?.(line);
    } catch (err) {
      remember(`(stderr handler failed: ${err.message})`);
    }
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    remember(line);
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return; // plain log lines are fine; only JSON objects are events
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return;
    events.push(event);
    try {
      onEvent?.(event);
    } catch (err) {
      remember(`(event handler failed: ${err.message})`);
    }
    for (const waiter of waiters) waiter.offer(event);
  });

  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      remember(`could not start: ${err.message}`);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      process.off('exit', killOnExit);
      resolve({ code, signal });
    });
  });

  return {
    process: child,
    exited,
    tail: () => lines.join('\n'),
    waitFor(predicate, timeoutMs, what) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          offer(event) {
            if (!predicate(event)) return;
            finish();
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name} did not report ${what} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        exited.then(({ code, signal }) => {
          if (!waiters.has(waiter)) return;
          finish();
          reject(new Error(`${name} exited (${signal ?? `code ${code}`}) before it reported ${what}`));
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
