/**
 * A process's budget of bytes held for peers it does not control (unread uploads and downloads, unfinished
 * messages). Over it, the holders that held longest without progress (their reader taking some) are
 * evicted: a slow but steady reader keeps going to the back of the line, a stalled one (an attacker's)
 * stays at the front.
 */

export type BufferBudget = ReturnType<typeof createBufferBudget>;
export type BufferHold = ReturnType<BufferBudget['hold']>;

interface Holder {
  bytes: number;
  onEvict: () => void;
}

export function createBufferBudget(limit: number) {
  const holders = new Set<Holder>();
  /** Holders holding bytes, in eviction order: since they started holding or last made progress. */
  const holding = new Set<Holder>();
  let held = 0;

  function enforce(): void {
    while (held > limit) {
      const oldest = holding.values().next().value;
      if (!oldest) return;
      holding.delete(oldest);
      holders.delete(oldest);
      held -= oldest.bytes;
      oldest.bytes = 0;
      oldest.onEvict();
    }
  }

  return {
    limit,
    total: (): number => held,
    /** `onEvict` is called once, when the budget evicts it. */
    hold(onEvict: () => void) {
      const holder: Holder = { bytes: 0, onEvict };
      holders.add(holder);
      return {
        /** May evict this holder, or others, synchronously. */
        set(bytes: number): void {
          if (!holders.has(holder)) return;
          if (bytes === 0) holding.delete(holder);
          else if (holder.bytes === 0) holding.add(holder);
          held += bytes - holder.bytes;
          holder.bytes = bytes;
          if (held > limit) enforce();
        },
        /** Its reader took some (a write flushed, credit spent): to the back of the eviction line. */
        progressed(): void {
          if (!holding.delete(holder)) return;
          holding.add(holder);
        },
        /** Idempotent. */
        release(): void {
          if (!holders.delete(holder)) return;
          holding.delete(holder);
          held -= holder.bytes;
          holder.bytes = 0;
        },
        /** Evicted or released. */
        get released(): boolean {
          return !holders.has(holder);
        },
      };
    },
  };
}
