/**
 * One fair-share rule for a session's bounded slots (the relay streams its
 * agent connection carries, its signaling sockets): a viewer address may
 * hold at most a quarter of the slots the session's other viewers leave
 * free, never more than its configured cap, and always at least one.
 *
 * A fixed per-viewer cap let a few addresses take every slot (four
 * addresses at a quarter each filled an agent connection, and everyone else
 * got ERR_TOO_MANY_STREAMS). With the share taken from what others leave,
 * each newcomer can take at most a quarter of the free slots: a hostile
 * address leaves three quarters for the next one, so a viewer that holds
 * nothing gets a slot until some twenty addresses (default stream limits),
 * each holding what it could, share the session; a viewer alone still gets
 * its whole cap.
 *
 * Viewers are told apart by sourceKey (IPv4 address, IPv6 /64). Counts live
 * per group (a session object or id) and a group is forgotten once it holds
 * nothing.
 */

/** A viewer may hold at most 1/FAIR_SHARE_DIVISOR of the slots others leave free: a quarter keeps three quarters for later viewers. */
export const FAIR_SHARE_DIVISOR = 4;

/** Slots a viewer may hold when others hold `heldByOthers` of `capacity`: a quarter of the rest, at most `cap`, at least 1. */
export function fairShare(capacity: number, heldByOthers: number, cap: number): number {
  return Math.min(cap, Math.max(1, Math.floor((capacity - heldByOthers) / FAIR_SHARE_DIVISOR)));
}

export interface FairShares<G> {
  /**
   * Takes a slot of `group` (with `capacity` slots in all) for `source` (a
   * sourceKey); false when the group is full or `source` holds its fair
   * share already (see fairShare; `cap` is its configured limit).
   */
  acquire(group: G, source: string, capacity: number, cap: number): boolean;
  /** Gives back a slot taken by acquire(). */
  release(group: G, source: string): void;
  /** Slots `source` holds in `group`. */
  count(group: G, source: string): number;
  /** Slots held in `group`, all sources together. */
  total(group: G): number;
}

interface Group {
  total: number;
  bySource: Map<string, number>;
}

export function createFairShares<G>(): FairShares<G> {
  const groups = new Map<G, Group>();
  return {
    acquire(group, source, capacity, cap) {
      let g = groups.get(group);
      const held = g?.bySource.get(source) ?? 0;
      const total = g?.total ?? 0;
      if (total >= capacity || held >= fairShare(capacity, total - held, cap)) return false;
      if (!g) groups.set(group, (g = { total: 0, bySource: new Map() }));
      g.bySource.set(source, held + 1);
      g.total++;
      return true;
    },
    release(group, source) {
      const g = groups.get(group);
      const held = g?.bySource.get(source);
      if (!g || held === undefined) return;
      if (held > 1) g.bySource.set(source, held - 1);
      else g.bySource.delete(source);
      if (--g.total === 0) groups.delete(group);
    },
    count(group, source) {
      return groups.get(group)?.bySource.get(source) ?? 0;
    },
    total(group) {
      return groups.get(group)?.total ?? 0;
    },
  };
}
