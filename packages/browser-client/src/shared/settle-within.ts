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

/** Posts `message` and a reply port to `target`: the reply as `parse` reads it, `parse(undefined)` when posting throws, `fallback` after `ms`. */
export function askOverPort<T>(target: Pick<MessagePort, 'postMessage'>, message: unknown, ms: number, fallback: T, parse: (data: unknown) => T): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return settleWithin(ms, fallback, (settle) => {
    port1.onmessage = (ev: MessageEvent) => settle(parse(ev.data));
    try {
      target.postMessage(message, [port2]);
    } catch {
      settle(parse(undefined));
    }
    return () => port1.close();
  });
}
