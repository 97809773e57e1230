/**
 * Bounded waits for tests: the code lives in scripts/lib/wait.mjs, shared
 * with the quick start, bench and lab. Prefer an event (waitForEvent,
 * withTimeout, a process's waitForLine / waitForEvent); until() polls only
 * where nothing announces the change; a window in which something must NOT
 * happen goes through expectNoEventWithin / expectUnchangedWithin.
 */
export {
  delay,
  expectNoEventWithin,
  expectUnchangedWithin,
  until,
  waitForEntry,
  waitForEvent,
  withTimeout,
  WaitTimeoutError,
} from '../../scripts/lib/wait.mjs';
