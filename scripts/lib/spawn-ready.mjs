/**
 * One way to run a child process and wait for it: used by the quick start,
 * the bench, the lab and the tests (jest loads this file through its swc
 * transform; spawn-ready.d.mts types it for TypeScript).
 *
 * - JSON lines on stdout become events (the bins' `--json` output); every
 *   line, stdout or stderr, can be waited for. A wait also sees what came
 *   before it (a bounded history), has a timeout, and fails with what it
 *   waited for, the last line seen and the last stderr lines.
 * - spawnReady() starts a process and resolves once it reports ready (a JSON
 *   event such as `ready` / `listening`, or a line matching a pattern); on
 *   failure the process is stopped before the error is thrown.
 * - stop() sends SIGTERM (or the given signal) to the process, SIGKILL after
 *   a grace period; a process in its own group has the whole group killed, so
 *   grandchildren do not outlive it. Every live process is SIGKILLed when the
 *   parent exits.
 *
 * No import.meta: jest's CommonJS transform must be able to load this file.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_POLL_INTERVAL_MS, WaitTimeoutError, withTimeout } from './wait.mjs';

/** Output lines (both streams) kept to explain a failure. */
const TAIL_LINES = 60;
/** Lines remembered for waits that start late; a test run with thousands of requests stays far below. */
const HISTORY_LINES = 100_000;
/** Stderr text kept for stderr() (what the tests search with a regex). */
const STDERR_KEEP_CHARS = 20_000;
/** A process that ignores SIGTERM this long is killed. */
const STOP_GRACE_MS = 5_000;
/** After 'exit', how long the last buffered output may take to arrive before waits give up. */
const EXIT_DRAIN_MS = 1_000;
/** Default bound on a wait for a process's line or event. */
const DEFAULT_TIMEOUT_MS = 15_000;
/** In file mode, how much of the stdout file is read at most: ready lines come first. */
const MAX_FILE_SCAN_BYTES = 1024 * 1024;
/** In file mode, bytes read per read(2). */
const FILE_READ_CHUNK_BYTES = 64 * 1024;

/** @type {Set<ReturnType<typeof spawnProcess>>} */
const live = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If we die abruptly, do not leave children running on their ports.
  process.once('exit', killAllNow);
}

function signalProcess(child, ownGroup, signal, wholeGroup) {
  if (child.pid === undefined) return;
  try {
    if (ownGroup && wholeGroup) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

function parseEvent(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const e = JSON.parse(line);
    return e && typeof e === 'object' && !Array.isArray(e) ? e : undefined;
  } catch {
    return undefined; // plain log lines are fine; only JSON objects are events
  }
}

/** @param {RegExp | ((line: string) => boolean)} pattern */
function lineMatcher(pattern) {
  return pattern instanceof RegExp ? (line) => pattern.test(line) : pattern;
}

/**
 * Starts a process. See spawn-ready.d.mts for the options and the handle.
 * @param {import('./spawn-ready.d.mts').SpawnOptions} options
 */
export function spawnProcess(options) {
  const { name, command, args = [], env = process.env, cwd, ownProcessGroup = true, stdoutFile, verbose = false } = options;
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  const outFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w+');
  const child = spawn(command, args, {
    env,
    cwd,
    stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only the parent, which
    // stops its children in order, and stop() can end grandchildren too.
    detached: ownProcessGroup,
  });
  // Detached children do not get the terminal's signals: SIGKILL them if we exit abruptly.
  // (Children in our group share its fate; tests, run by jest, use that.)
  if (ownProcessGroup) installExitHook();

  const tailLines = [];
  const stderrLines = [];
  /** @type {Array<{ line: string, event: Record<string, unknown> | undefined, stream: 'stdout' | 'stderr' }>} */
  const history = [];
  /** @type {Array<Record<string, unknown>>} */
  const events = [];
  const waiters = new Set();
  let stderrText = '';
  let lastStdoutLine;
  let fileOffset = 0;
  let outFdClosed = false;
  let filePartial = '';
  const fileDecoder = new StringDecoder('utf8');

  const remember = (line) => {
    tailLines.push(line);
    if (tailLines.length > TAIL_LINES) tailLines.shift();
    if (verbose) process.stderr.write(`[${name}] ${line}\n`);
  };
  const call = (fn, arg) => {
    try {
      fn?.(arg);
    } catch (err) {
      remember(`(${name}: output handler failed: ${err.message})`);
    }
  };
  const offer = (line, stream) => {
    remember(line);
    const event = stream === 'stdout' ? parseEvent(line) : undefined;
    if (stream === 'stdout') lastStdoutLine = line;
    else {
      stderrLines.push(line);
      if (stderrLines.length > TAIL_LINES) stderrLines.shift();
    }
    if (history.length < HISTORY_LINES) history.push({ line, event, stream });
    if (event && events.length < HISTORY_LINES) events.push(event);
    if (stream === 'stderr') call(options.onStderrLine, line);
    else call(options.onStdoutLine, line);
    if (event) call(options.onEvent, event);
    for (const w of [...waiters]) w.offer(line, event, stream);
  };

  /** File mode: reads what the child wrote since last time (bounded), line by line. */
  const pumpFile = () => {
    while (outFd !== undefined && !outFdClosed && fileOffset < MAX_FILE_SCAN_BYTES) {
      const buf = Buffer.alloc(Math.min(FILE_READ_CHUNK_BYTES, MAX_FILE_SCAN_BYTES - fileOffset));
      let n;
      try {
        n = readSync(outFd, buf, 0, buf.length, fileOffset);
      } catch {
        return; // closed by stop()
      }
      if (n === 0) return;
      fileOffset += n;
      const parts = (filePartial + fileDecoder.write(buf.subarray(0, n))).split('\n');
      filePartial = parts.pop() ?? '';
      for (const line of parts) if (line !== '') offer(line, 'stdout');
    }
  };
  let fileTimer;
  const syncFilePolling = () => {
    if (outFd === undefined) return;
    if (waiters.size > 0 && fileTimer === undefined) fileTimer = setInterval(pumpFile, DEFAULT_POLL_INTERVAL_MS);
    if (waiters.size === 0 && fileTimer !== undefined) {
      clearInterval(fileTimer);
      fileTimer = undefined;
    }
  };

  if (outFd === undefined) createInterface({ input: child.stdout }).on('line', (line) => offer(line, 'stdout'));
  child.stderr.on('data', (d) => (stderrText = (stderrText + d.toString()).slice(-STDERR_KEEP_CHARS)));
  createInterface({ input: child.stderr }).on('line', (line) => offer(line, 'stderr'));

  let spawnError;
  const exited = new Promise((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      remember(`could not start ${command}: ${err.message}`);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  /** Resolves once the process has exited and its output has been read (or EXIT_DRAIN_MS passed). */
  const drained = exited.then(
    () =>
      new Promise((resolve) => {
        pumpFile();
        const streams = [child.stdout, child.stderr].filter((s) => s && !s.readableEnded && !s.destroyed);
        if (streams.length === 0) return resolve();
        const timer = setTimeout(resolve, EXIT_DRAIN_MS);
        let left = streams.length;
        for (const s of streams) s.once('close', () => --left === 0 && (clearTimeout(timer), resolve()));
      }),
  );
  void exited.then(() => {
    live.delete(handle);
    if (fileTimer !== undefined) clearInterval(fileTimer);
  });

  const stderrTail = (n = 20) => stderrLines.slice(-n).join('\n');
  const explain = () => `last stderr lines of ${name}:\n${stderrTail() || '(none)'}`;
  const exitText = () => (spawnError ? `could not start (${spawnError.message})` : `exited (${child.signalCode ?? `code ${child.exitCode}`})`);

  /**
   * @template T
   * @param {(line: string, event: Record<string, unknown> | undefined, stream: 'stdout' | 'stderr') => T | undefined} match
   */
  function waitForMatch(match, { timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a matching line' } = {}) {
    pumpFile();
    for (const { line, event, stream } of history) {
      const hit = match(line, event, stream);
      if (hit !== undefined) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        offer(line, event, stream) {
          let hit;
          try {
            hit = match(line, event, stream);
          } catch (err) {
            finish();
            reject(err);
            return;
          }
          if (hit === undefined) return;
          finish();
          resolve(hit);
        },
      };
      const timer = setTimeout(() => {
        finish();
        const observed = lastStdoutLine;
        reject(new WaitTimeoutError(`${what} from ${name}`, timeoutMs, { observed, hasObserved: observed !== undefined, detail: explain() }));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        syncFilePolling();
      };
      waiters.add(waiter);
      syncFilePolling();
      void drained.then(() => {
        if (!waiters.has(waiter)) return;
        finish();
        reject(new Error(`${name} ${exitText()} before it reported ${what}; ${explain()}`));
      });
    });
  }

  /** Accepts (timeoutMs, what) as well as ({ timeoutMs, what }): the older helpers' signature. */
  const waitOptions = (opts, what) => (typeof opts === 'number' ? { timeoutMs: opts, what } : { ...opts, ...(what !== undefined ? { what } : {}) });

  const handle = {
    name,
    child,
    ownProcessGroup,
    events,
    exited,
    waitForMatch,
    waitFor(predicate, opts, what) {
      const o = waitOptions(opts, what);
      return waitForMatch((_line, e) => (e && predicate(e) ? e : undefined), { what: 'a matching JSON event', ...o });
    },
    waitForEvent(eventName, opts) {
      return handle.waitFor((e) => e.event === eventName, { what: `a "${eventName}" event`, ...waitOptions(opts) });
    },
    waitForLine(pattern, opts, what) {
      const o = waitOptions(opts, what);
      const test = lineMatcher(pattern);
      const streams = o.stream ?? 'stdout';
      return waitForMatch((line, _e, stream) => ((streams === 'both' || stream === streams) && test(line) ? line : undefined), {
        what: pattern instanceof RegExp ? `a line matching ${pattern}` : 'a matching line',
        ...o,
      });
    },
    /** Resolves with how the process ended, once its output is read; rejects if it is still running after timeoutMs. */
    waitForExit({ timeoutMs = DEFAULT_TIMEOUT_MS, what = `${name} to exit` } = {}) {
      return withTimeout(
        drained.then(() => exited),
        { timeoutMs, what, observe: () => stderrTail() },
      );
    },
    /** Stdout lines seen so far (file mode: the first MAX_FILE_SCAN_BYTES). */
    stdoutLines() {
      pumpFile();
      return history.filter((h) => h.stream === 'stdout').map((h) => h.line);
    },
    /** Stderr lines seen so far (the first HISTORY_LINES lines of both streams). */
    stderrLines() {
      return history.filter((h) => h.stream === 'stderr').map((h) => h.line);
    },
    tail: () => tailLines.join('\n'),
    stderrTail,
    stderr: () => stderrText,
    isRunning: () => child.exitCode === null && child.signalCode === null && child.pid !== undefined && spawnError === undefined,
    /** Sends `signal` (default SIGTERM), SIGKILL after the grace period; resolves once it exited. */
    async stop({ signal = 'SIGTERM', graceMs = stopGraceMs } = {}) {
      live.delete(handle);
      if (handle.isRunning()) {
        signalProcess(child, ownProcessGroup, signal, false);
        const timer = setTimeout(() => signalProcess(child, ownProcessGroup, 'SIGKILL', true), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Whatever it started and left behind in its group goes too.
      signalProcess(child, ownProcessGroup, 'SIGKILL', true);
      if (outFd !== undefined && !outFdClosed) {
        outFdClosed = true;
        try {
          closeSync(outFd);
        } catch {
          /* closed already */
        }
        if (options.removeStdoutFile) rmSync(stdoutFile, { force: true });
      }
    },
  };
  live.add(handle);
  return handle;
}

/**
 * Starts a process and resolves once it reports ready: `ready` is a JSON event
 * name (`'ready'`, `'listening'`), a predicate over JSON events, or a RegExp
 * for a line (stdout or stderr). On failure the process is stopped and the
 * error says what was awaited with the last stderr lines.
 * @param {import('./spawn-ready.d.mts').SpawnReadyOptions} options
 */
export async function spawnReady(options) {
  const { ready, readyTimeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const proc = spawnProcess(options);
  try {
    let readyValue;
    if (ready instanceof RegExp)
      readyValue = await proc.waitForLine(ready, { timeoutMs: readyTimeoutMs, stream: 'both', what: options.readyWhat ?? `a line matching ${ready}` });
    else if (typeof ready === 'string')
      readyValue = await proc.waitForEvent(ready, { timeoutMs: readyTimeoutMs, ...(options.readyWhat ? { what: options.readyWhat } : {}) });
    else readyValue = await proc.waitFor(ready, { timeoutMs: readyTimeoutMs, what: options.readyWhat ?? 'its ready event' });
    return { proc, ready: readyValue };
  } catch (err) {
    await proc.stop({ graceMs: 1_000 });
    throw err;
  }
}

/** Stops every process still running (in parallel; each bounded by its grace period). */
export async function stopAll() {
  await Promise.all([...live].map((p) => p.stop()));
}

/** Synchronous last resort (process 'exit', a second Ctrl-C): SIGKILL whatever is left. */
export function killAllNow() {
  for (const p of live) signalProcess(p.child, p.ownProcessGroup, 'SIGKILL', true);
  live.clear();
}
