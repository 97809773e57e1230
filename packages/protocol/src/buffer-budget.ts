/**
 * A process's budget of bytes it holds for peers it does not control, across
 * all their connections and streams (the tunnel server for viewers: unfinished
 * WebSocket messages, uploads the app does not read, downloads the viewer
 * does not read; the agent for streams: uploads the app does not read,
 * downloads the peer grants no credit for). Each holder reports what it
 * holds now, and that its reader made progress (took some of those bytes: a
 * write flushed, window credit spent) when it does. When the total goes over
 * the budget, the holders that have held bytes the longest without progress
 * are evicted (their `onEvict` closes them with a clear code) until it fits
 * again: a holder's place in the line counts from when it started holding
 * (since it last held none) or last made progress, whichever is later. A
 * message or a body that is moving empties its holder within moments, and a
 * slow but steady reader (a download at a few KB/s that never lets its queue
 * run dry) keeps going to the back of the line; one that is stalled (an
 * unfinished frame that never completes, an app or a viewer that never reads)
 * keeps its place at the front, so an attacker's thousand stalled exchanges go
 * first and legitimate ones carry on.
 */

export interface BufferHold {
  /** What the holder holds now, bytes. May evict this holder, or others, synchronously. */
  set(bytes: number): void;
  /**
   * The holder's reader took some of what it holds (a write flushed, credit
   * spent): it goes to the back of the eviction line, as though it had
   * started holding now. Nothing while it holds none.
   */
  progressed(): void;
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
}

interface Holder {
  bytes: number;
  onEvict: () => void;
}

export function createBufferBudget(limit: number): BufferBudget {
  const holders = new Set<Holder>();
  /**
   * Holders holding bytes, in the order they started holding (since they last
   * held none) or last made progress, whichever is later: eviction order.
   */
  const holding = new Set<Holder>();
  let held = 0;

  /** Evicts the holders that held the longest without progress until the total fits (bounded: each pass removes one holder). */
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
    total: () => held,
    hold(onEvict) {
      const holder: Holder = { bytes: 0, onEvict };
      holders.add(holder);
      return {
        set(bytes) {
          if (!holders.has(holder)) return;
          if (bytes === 0) holding.delete(holder);
          else if (holder.bytes === 0) holding.add(holder);
          held += bytes - holder.bytes;
          holder.bytes = bytes;
          if (held > limit) enforce();
        },
        progressed() {
          if (!holding.delete(holder)) return;
          holding.add(holder);
        },
        release() {
          if (!holders.delete(holder)) return;
          holding.delete(holder);
          held -= holder.bytes;
          holder.bytes = 0;
        },
        get released() {
          return !holders.has(holder);
        },
      };
    },
  };
}
