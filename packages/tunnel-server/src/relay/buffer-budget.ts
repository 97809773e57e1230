/**
 * The server's budget of bytes it holds for viewers, across all their
 * connections: unfinished WebSocket messages, responses queued for viewers
 * that do not read, HTTP/2 receive windows. Each holder reports what it
 * holds now; when the total goes over the budget, the holders holding the
 * most are evicted (their `onEvict` closes them with a clear code) until it
 * fits again. A holder that fits within the budget alone is never refused
 * for its own sake: it is the largest holders that go, so one viewer (or
 * one attacker's thousand sockets) cannot make the server hold more than the
 * budget, and small legitimate exchanges carry on.
 */

export interface BufferHold {
  /** What the holder holds now, bytes. May evict this holder, or others, synchronously. */
  set(bytes: number): void;
  /** The holder is gone (closed): its bytes no longer count. Idempotent. */
  release(): void;
  /** True once this holder was evicted or released. */
  readonly released: boolean;
}

export interface BufferBudget {
  /** The budget, bytes. */
  readonly limit: number;
  /** Bytes held now, across all holders. */
  total(): number;
  /** Registers a holder; `onEvict` is called (once) when the budget evicts it. */
  hold(onEvict: () => void): BufferHold;
  /**
   * Takes `bytes` from the budget when they fit under it (a reservation, such
   * as an HTTP/2 connection's receive window); false when they do not, and
   * nothing is taken. Give them back with unreserve().
   */
  reserve(bytes: number): boolean;
  unreserve(bytes: number): void;
}

interface Holder {
  bytes: number;
  onEvict: () => void;
}

export function createBufferBudget(limit: number): BufferBudget {
  const holders = new Set<Holder>();
  let held = 0;
  let reserved = 0;

  /** Evicts the largest holders until the total fits (bounded: each pass removes one holder). */
  function enforce(): void {
    while (held + reserved > limit && holders.size > 0) {
      let largest: Holder | undefined;
      for (const h of holders) if (!largest || h.bytes > largest.bytes) largest = h;
      if (!largest || largest.bytes === 0) return;
      holders.delete(largest);
      held -= largest.bytes;
      largest.bytes = 0;
      largest.onEvict();
    }
  }

  return {
    limit,
    total: () => held + reserved,
    hold(onEvict) {
      const holder: Holder = { bytes: 0, onEvict };
      holders.add(holder);
      return {
        set(bytes) {
          if (!holders.has(holder)) return;
          held += bytes - holder.bytes;
          holder.bytes = bytes;
          if (held + reserved > limit) enforce();
        },
        release() {
          if (!holders.delete(holder)) return;
          held -= holder.bytes;
          holder.bytes = 0;
        },
        get released() {
          return !holders.has(holder);
        },
      };
    },
    reserve(bytes) {
      if (held + reserved + bytes > limit) return false;
      reserved += bytes;
      return true;
    },
    unreserve(bytes) {
      reserved = Math.max(0, reserved - bytes);
    },
  };
}
