/**
 * Bounded waits, shared by the tests (TypeScript, through jest's swc
 * transform) and the scripts (quick start, bench, lab). Every wait has a
 * timeout and fails with what it waited for and the last thing it saw, so a
 * hang in CI reads as a sentence, not as "exceeded timeout of 60000 ms".
 *
 * Prefer an event (waitForEvent, withTimeout around a promise that an event
 * settles); poll (until) only where nothing announces the change, e.g. a file
 * appearing or another process's state. A window in which something must NOT
 * happen goes through expectNoEventWithin / expectUnchangedWithin, never a
 * bare sleep.
 *
 * Plain JavaScript without import.meta, so that jest's CommonJS transform can
 * load it as well as Node.js as an ES module.
 */

/** Default bound for one wait: long enough for a loaded 2-core CI machine. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
/** Default poll period for until(): short next to the timeouts, cheap next to a loop that spins. */
export const DEFAULT_POLL_INTERVAL_MS = 20;
/** An observed value longer than this is cut in error messages. */
const MAX_OBSERVED_CHARS = 2_000;

/** Renders the last value a wait saw, for its error message. */
export function describeObserved(value) {
  let text;
  if (value instanceof Error) text = `${value.name}: ${value.message}`;
  else if (typeof value === 'string') text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_OBSERVED_CHARS ? `${text.slice(0, MAX_OBSERVED_CHARS)}…` : text;
}

/** The error every wait throws when its time is up. */
export class WaitTimeoutError extends Error {
  /**
   * @param {string} what what was awaited
   * @param {number} timeoutMs
   * @param {{ observed?: unknown, hasObserved?: boolean, detail?: string }} [info]
   */
  constructor(what, timeoutMs, info = {}) {
    const seen = info.hasObserved ? `; last observed: ${describeObserved(info.observed)}` : '; nothing observed';
    super(`timed out after ${timeoutMs} ms waiting for ${what}${seen}${info.detail ? `\n${info.detail}` : ''}`);
    this.name = 'WaitTimeoutError';
    this.code = 'ERR_WAIT_TIMEOUT';
    this.what = what;
    this.observed = info.observed;
  }
}

/**
 * Settles with `promise`, or rejects with a WaitTimeoutError after timeoutMs.
 * @template T
 * @param {Promise<T>} promise
 * @param {{ timeoutMs?: number, what: string, observe?: () => unknown }} options
 *   observe: called at timeout to report the last state (e.g. the messages received so far)
 * @returns {Promise<T>}
 */
export function withTimeout(promise, { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, what, observe }) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new WaitTimeoutError(what, timeoutMs, observe ? { observed: safeObserve(observe), hasObserved: true } : {}));
    }, timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function safeObserve(observe) {
  try {
    return observe();
  } catch (err) {
    return err;
  }
}

/**
 * Resolves with the arguments of the first `name` event for which filter(...args)
 * is true (with the first argument alone when the event has one). Rejects after
 * timeoutMs, or when one of `failOn` is emitted first (e.g. 'error', 'close').
 * Works with Node EventEmitters (on/off) and DOM-style targets (addEventListener).
 * @param {any} emitter
 * @param {string} name
 * @param {{ timeoutMs?: number, what?: string, filter?: (...args: any[]) => boolean, failOn?: string[] }} [options]
 * @returns {Promise<any>}
 */
export function waitForEvent(emitter, name, { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, what, filter, failOn = [] } = {}) {
  const label = what ?? `a '${name}' event`;
  return new Promise((resolve, reject) => {
    let observed;
    let hasObserved = false;
    const listeners = [];
    const listen = (event, fn) => {
      if (typeof emitter.on === 'function') emitter.on(event, fn);
      else emitter.addEventListener(event, fn);
      listeners.push([event, fn]);
    };
    const finish = () => {
      clearTimeout(timer);
      for (const [event, fn] of listeners) {
        if (typeof emitter.off === 'function') emitter.off(event, fn);
        else emitter.removeEventListener(event, fn);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new WaitTimeoutError(label, timeoutMs, { observed, hasObserved }));
    }, timeoutMs);
    listen(name, (...args) => {
      const value = args.length === 1 ? args[0] : args;
      let ok;
      try {
        ok = filter ? filter(...args) : true;
      } catch (err) {
        finish();
        reject(err);
        return;
      }
      if (!ok) {
        observed = value;
        hasObserved = true;
        return;
      }
      finish();
      resolve(value);
    });
    for (const event of failOn) {
      listen(event, (...args) => {
        finish();
        const cause = args[0];
        reject(new Error(`'${event}' before ${label}${cause === undefined ? '' : `: ${describeObserved(cause)}`}`));
      });
    }
  });
}

/**
 * Resolves with the first entry of `list` passing `filter`, or else with the
 * next `name` event passing it: for recorders (a fixture app's aborted
 * requests) that keep a list and emit each entry as it is added.
 * @param {unknown[]} list
 * @param {any} emitter
 * @param {string} name
 * @param {{ timeoutMs?: number, what?: string, filter?: (entry: any) => boolean, failOn?: string[] }} [options]
 *   failOn: as waitForEvent's, for the wait on the next event
 */
export function waitForEntry(list, emitter, name, { filter = () => true, ...options } = {}) {
  const found = list.find((entry) => filter(entry));
  if (found !== undefined) return Promise.resolve(found);
  return waitForEvent(emitter, name, { filter, ...options });
}

/**
 * Polls `check` until it returns a truthy value and resolves with that value.
 * For state that no event announces; bounded by timeoutMs, and the error says
 * what was awaited and what check last returned (or threw).
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ timeoutMs?: number, intervalMs?: number, what: string, observe?: () => unknown }} options
 *   observe: what to report at the timeout instead of check's last value
 *   (e.g. the last reply, when check returns only whether it is done)
 * @returns {Promise<T>}
 */
export async function until(check, { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, intervalMs = DEFAULT_POLL_INTERVAL_MS, what, observe }) {
  const deadline = Date.now() + timeoutMs;
  let observed;
  let hasObserved = false;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      observed = value;
    } catch (err) {
      observed = err;
    }
    hasObserved = true;
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, { observed: observe ? safeObserve(observe) : observed, hasObserved });
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Resolves after windowMs if no `name` event passing `filter` was emitted;
 * rejects at once when one is. Use only to prove that something does NOT
 * happen, and say at the call site why that window is long enough.
 * @param {any} emitter
 * @param {string} name
 * @param {{ windowMs: number, what?: string, filter?: (...args: any[]) => boolean }} options
 */
export function expectNoEventWithin(emitter, name, { windowMs, what, filter }) {
  return new Promise((resolve, reject) => {
    const on = (...args) => {
      if (filter && !filter(...args)) return;
      finish();
      const value = args.length === 1 ? args[0] : args;
      reject(new Error(`unexpected ${what ?? `'${name}' event`} within ${windowMs} ms: ${describeObserved(value)}`));
    };
    const finish = () => {
      clearTimeout(timer);
      if (typeof emitter.off === 'function') emitter.off(name, on);
      else emitter.removeEventListener(name, on);
    };
    const timer = setTimeout(() => {
      finish();
      resolve();
    }, windowMs);
    if (typeof emitter.on === 'function') emitter.on(name, on);
    else emitter.addEventListener(name, on);
  });
}

/**
 * Watches `read` for windowMs and rejects as soon as its value differs from
 * the one at the start (compared as JSON); resolves with the value otherwise.
 * For a "nothing happens" window where the thing observed is state, not an
 * event (a counter, a list of requests a fixture saw). Say at the call site
 * why the window is long enough.
 * @template T
 * @param {() => T} read
 * @param {{ windowMs: number, what: string, intervalMs?: number }} options
 * @returns {Promise<T>}
 */
export async function expectUnchangedWithin(read, { windowMs, what, intervalMs = DEFAULT_POLL_INTERVAL_MS }) {
  const initial = read();
  const before = JSON.stringify(initial);
  const deadline = Date.now() + windowMs;
  for (;;) {
    const now = read();
    if (JSON.stringify(now) !== before) {
      throw new Error(`${what} changed within ${windowMs} ms: from ${describeObserved(initial)} to ${describeObserved(now)}`);
    }
    if (Date.now() >= deadline) return now;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * A plain pause, for pacing (a sender that must not outrun its reader, a
 * retry interval). Not for waiting on something: use the helpers above.
 * @param {number} ms
 */
export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
