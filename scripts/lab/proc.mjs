/**
 * A process started inside a lab namespace (`ip netns exec <ns> <cmd>`, which
 * execs, so the child's pid is the command's own). Its output lines are kept
 * (the last TAIL_LINES, to explain a failure) and JSON lines become events
 * one can wait for, each wait with a timeout. stop() ends it for sure.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Output lines kept per process for error messages. */
const TAIL_LINES = 60;
/** Stdout lines remembered for waits that start late (a lab run prints a few hundred). */
const HISTORY_LINES = 10_000;
/** A process that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 3_000;

/**
 * @typedef {object} LabProcess
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} child
 * @property {Array<Record<string, unknown>>} events JSON lines seen so far
 * @property {(predicate: (e: Record<string, unknown>) => boolean, timeoutMs: number, what: string) => Promise<Record<string, unknown>>} waitFor
 * @property {(predicate: (line: string) => boolean, timeoutMs: number, what: string) => Promise<string>} waitForLine
 * @property {() => string} tail
 * @property {() => Promise<void>} stop
 */

/**
 * @param {{ name: string, ns: string, command: string, args: string[], env?: Record<string, string | undefined>, cwd?: string }} options
 * @returns {LabProcess}
 */
export function startInNamespace({ name, ns, command, args, env = process.env, cwd }) {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const events = [];
  /** Every stdout line with its parsed event, so a wait also sees what came before it (bounded). */
  const history = [];
  const waiters = new Set();
  const remember = (line) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  const onLine = (line) => {
    remember(line);
    let event;
    if (line.startsWith('{')) {
      try {
        event = JSON.parse(line);
      } catch {
        event = undefined;
      }
    }
    if (!(event && typeof event === 'object' && !Array.isArray(event))) event = undefined;
    if (event && events.length < HISTORY_LINES) events.push(event);
    if (history.length < HISTORY_LINES) history.push({ line, event });
    for (const w of [...waiters]) w.offer(line, event);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', remember);
  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      remember(`could not start: ${err.message}`);
      resolve();
    });
    child.on('close', () => resolve());
  });

  /** @param {(line: string, event: any) => any} match */
  function wait(match, timeoutMs, what) {
    for (const { line, event } of history) {
      const hit = match(line, event);
      if (hit !== undefined) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        offer(line, event) {
          const hit = match(line, event);
          if (hit === undefined) return;
          finish();
          resolve(hit);
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${name} did not report ${what} within ${timeoutMs / 1000} s; last output:\n${lines.join('\n')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
      void exited.then(() => {
        if (!waiters.has(waiter)) return;
        finish();
        reject(new Error(`${name} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it reported ${what}; last output:\n${lines.join('\n')}`));
      });
    });
  }

  return {
    name,
    child,
    events,
    waitFor: (predicate, timeoutMs, what) => wait((_line, e) => (e && predicate(e) ? e : undefined), timeoutMs, what),
    waitForLine: (predicate, timeoutMs, what) => wait((line) => (predicate(line) ? line : undefined), timeoutMs, what),
    tail: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
