/**
 * A wait with a deadline: `listen` starts listening and calls `settle` with the answer; `fallback` is the
 * answer once `ms` passed. It settles once, then clears its timer and runs the cleanup `listen` returned.
 */
export function settleWithin<T>(ms: number, fallback: T, listen: (settle: (value: T) => void) => (() => void) | void): Promise<T> {
  return new Promise<T>((resolve) => {
    let settled = false;
    let cleanup: (() => void) | void = undefined;
    const settle = (value: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup?.();
      resolve(value);
    };
    const timer = setTimeout(() => settle(fallback), ms);
    cleanup = listen(settle);
    // Settled while it started listening: its cleanup came too late for settle().
    if (settled) cleanup?.();
  });
}
