/**
 * A floor per network and push-out, for a session's bounded slots (docs/operations.md §Limits): the fair shares
 * (fair-share.ts) still let some networks, each within its share, hold every slot. So a network within its floor
 * (shareFloor: 1/32 of the slots) takes a free slot, or when none is free the newest slot of the network holding the
 * most, if that holds two more: as a switch's shared buffer drops from its longest queue. Holdings converge to equal
 * shares, and no two networks trade slots back and forth.
 */
import { createFairShares, type ShareHolder, type ShareVerdict } from './fair-share';

/** A network may always hold 1/FLOOR_DIVISOR of a group's slots, whatever its share (shareFloor). */
const FLOOR_DIVISOR = 32;

/**
 * Slots a network may hold whatever its fair share: 1/32 of `capacity`, at least one (32 of an agent connection's 1
 * 024 streams: a page's worth; 2 of a session's 64 signaling sockets). It is each one's equal share when 32 networks
 * hold every slot: with more, push-out keeps their shares equal and below it.
 */
export function shareFloor(capacity: number): number {
  return Math.max(1, Math.floor(capacity / FLOOR_DIVISOR));
}

/** A slot cut for a holder with fewer: whose it was, and for whom. */
export interface SlotCut<G> {
  group: G;
  /** The network that held the most, and the source (address, IPv6 /64) of the slot cut. */
  cut: ShareHolder;
  /** Slots that network held before the cut. */
  held: number;
  /** The holder the slot went to. */
  taker: ShareHolder;
  /** What ending the cut slot threw, if it did (the slot is free all the same). */
  error?: unknown;
}

/** A held slot: its source, how to end it for another, and its release. */
interface Held {
  source: string;
  end(): void;
  release(): void;
}

/** `onCut`: each slot cut for a holder with fewer (the caller logs it and counts it). */
export function createPushOutShares<G>(onCut: (cut: SlotCut<G>) => void) {
  // A group's entry goes once it holds no slot.
  const shares = createFairShares<G>();
  /** Per group and network, its slots in the order they were taken (the last is the newest). */
  const held = new Map<G, Map<string, Set<Held>>>();

  function forget(group: G, network: string, entry: Held): void {
    const networks = held.get(group);
    const slots = networks?.get(network);
    if (!networks || !slots) return;
    slots.delete(entry);
    if (slots.size === 0) networks.delete(network);
    if (networks.size === 0) held.delete(group);
  }

  /** Cuts the newest slot `network` holds in `group` (none when its slots are counted but not yet held). */
  function cutNewest(group: G, network: string, count: number, taker: ShareHolder): void {
    let newest: Held | undefined;
    for (const entry of held.get(group)?.get(network) ?? []) newest = entry;
    if (!newest) return;
    // Freed first, so the taker has it whatever ending it does or throws.
    newest.release();
    let error: unknown;
    try {
      newest.end();
    } catch (err) {
      error = err;
    }
    onCut({ group, cut: { network, source: newest.source }, held: count, taker, ...(error !== undefined ? { error } : {}) });
  }

  return {
    /**
     * Takes a slot of `group` (`capacity` in all) for `holder`, unless it holds its share already (fair-share.ts; `cap`
     * per source). Within its network's floor (shareFloor) a holder is let past its share (not past `cap`): a free
     * slot, or on a full group the newest slot of the network holding the most, when that holds two more. Give a taken
     * slot back with release(), or register it with hold().
     */
    acquire(group: G, holder: ShareHolder, capacity: number, cap: number): ShareVerdict {
      const verdict = shares.acquire(group, holder, capacity, cap);
      if (verdict === 'taken' || shares.count(group, holder) >= cap) return verdict;
      const mine = shares.networkCount(group, holder);
      if (mine >= shareFloor(capacity)) return verdict;
      if (shares.total(group) >= capacity) {
        // Only a network holding two more gives a slot up: holders never trade one back and forth.
        const largest = shares.largestOtherNetwork(group, holder);
        if (!largest || largest.count < mine + 2) return verdict;
        cutNewest(group, largest.network, largest.count, holder);
        if (shares.total(group) >= capacity) return verdict;
      }
      shares.take(group, holder);
      return 'taken';
    },
    /**
     * Registers the slot taken by acquire() as `holder`'s newest; `end` ends it when it is cut for another. Returns its
     * release, to call when the slot's holder lets go (idempotent: a cut slot is released already).
     */
    hold(group: G, holder: ShareHolder, end: () => void): () => void {
      let released = false;
      const entry: Held = {
        source: holder.source,
        end,
        release() {
          if (released) return;
          released = true;
          shares.release(group, holder);
          forget(group, holder.network, entry);
        },
      };
      let networks = held.get(group);
      if (!networks) held.set(group, (networks = new Map()));
      let slots = networks.get(holder.network);
      if (!slots) networks.set(holder.network, (slots = new Set()));
      slots.add(entry);
      return entry.release;
    },
    /** Gives back a slot taken by acquire() and never held. */
    release: shares.release,
    count: shares.count,
  };
}
