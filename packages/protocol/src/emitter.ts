/** A tiny typed event emitter (the protocol package has no `node:events`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export class Emitter<E extends { [K in keyof E]: Listener }> {
  /** Each event's listeners in the order they were added; a list is replaced, never changed, so emit() needs no copy. */
  private readonly listeners = new Map<keyof E, readonly Listener[]>();

  /** Adds a listener (once: adding it again does nothing); returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: E[K]): () => void {
    const list = this.listeners.get(event);
    if (!list) this.listeners.set(event, [fn]);
    else if (!list.includes(fn)) this.listeners.set(event, [...list, fn]);
    return () => this.off(event, fn);
  }

  once<K extends keyof E>(event: K, fn: E[K]): () => void {
    const wrapped = ((...args: unknown[]) => {
      this.off(event, wrapped);
      fn(...args);
    }) as E[K];
    return this.on(event, wrapped);
  }

  off<K extends keyof E>(event: K, fn: E[K]): void {
    const list = this.listeners.get(event);
    if (!list?.includes(fn)) return;
    if (list.length === 1) this.listeners.delete(event);
    else
      this.listeners.set(
        event,
        list.filter((f) => f !== fn),
      );
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** A listener's exception goes to listenerThrew, never into the caller's protocol state. */
  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const fn of list) {
      try {
        fn(...args);
      } catch (err) {
        this.listenerThrew(err);
      }
    }
  }

  /** Where a listener's exception goes (from within emit: anything it does waits for a microtask). By default: rethrown uncaught. */
  protected listenerThrew(err: unknown): void {
    queueMicrotask(() => {
      throw err;
    });
  }
}
