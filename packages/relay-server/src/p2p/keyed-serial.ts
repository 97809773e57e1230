/**
 * Async tasks one after another per key: a viewer's signaling is checked
 * asynchronously (WebCrypto MACs) yet applied in order. At most
 * MAX_QUEUED_PER_KEY per key (the server rate-limits far below).
 */

/** Tasks waiting per key. */
const MAX_QUEUED_PER_KEY = 256;

/** A `run(key, task)` that queues `task` behind the key's earlier ones; false when the key's queue is full (the task is dropped). */
export function createKeyedSerial(onError: (key: string, err: unknown) => void): (key: string, task: () => Promise<void> | void) => boolean {
  const queues = new Map<string, { tail: Promise<void>; length: number }>();
  return (key, task) => {
    const q = queues.get(key) ?? { tail: Promise.resolve(), length: 0 };
    if (q.length >= MAX_QUEUED_PER_KEY) return false;
    q.length++;
    queues.set(key, q);
    q.tail = q.tail
      .then(task)
      .catch((err: unknown) => onError(key, err))
      .finally(() => {
        if (--q.length === 0 && queues.get(key) === q) queues.delete(key);
      });
    return true;
  };
}
