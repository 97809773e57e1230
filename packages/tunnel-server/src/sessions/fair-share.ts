/**
 * One fair-share rule for a session's bounded slots (relay streams, signaling sockets; docs/operations.md §Limits): a
 * viewer address may hold at most a quarter of the slots the other viewers leave free, never more than its cap, and
 * always at least one; the addresses of one network (networkKey: IPv4 /24, IPv6 /56) together likewise. A fixed
 * per-viewer cap let four addresses fill an agent connection, and per address alone 32 addresses of one /24 did;
 * push-out.ts lets a network within its floor past its share. Counts live per group (a session object or id), which
 * is forgotten once it holds nothing.
 */
import { decrement, networkKey, sourceKey } from '../http/source-key';

/** A viewer may hold at most 1/FAIR_SHARE_DIVISOR of the slots others leave free: a quarter keeps three quarters for later viewers. */
const FAIR_SHARE_DIVISOR = 4;

/** Slots a viewer may hold when others hold `heldByOthers` of `capacity`: a quarter of the rest, at most `cap`, at least 1. */
export function fairShare(capacity: number, heldByOthers: number, cap: number): number {
  return Math.min(cap, Math.max(1, Math.floor((capacity - heldByOthers) / FAIR_SHARE_DIVISOR)));
}

/** Who holds a slot: a viewer's source (sourceKey) and the network it belongs to (networkKey). */
export interface ShareHolder {
  source: string;
  network: string;
}

export function holderOf(address: string): ShareHolder {
  return { source: sourceKey(address), network: networkKey(address) };
}

/**
 * What acquire() decided: `taken` (the slot is the holder's), or why not: `full` (the group holds `capacity`),
 * `source` (the holder's source holds its share), `network` (its network does).
 */
export type ShareVerdict = 'taken' | 'full' | 'source' | 'network';

interface Group {
  total: number;
  bySource: Map<string, number>;
  byNetwork: Map<string, number>;
}

export function createFairShares<G>() {
  const groups = new Map<G, Group>();
  function take(group: G, { source, network }: ShareHolder): void {
    let g = groups.get(group);
    if (!g) groups.set(group, (g = { total: 0, bySource: new Map(), byNetwork: new Map() }));
    g.bySource.set(source, (g.bySource.get(source) ?? 0) + 1);
    g.byNetwork.set(network, (g.byNetwork.get(network) ?? 0) + 1);
    g.total++;
  }
  return {
    /** Takes a slot of `group` (`capacity` in all) for `holder`, unless the group is full or its source (`cap` at most) or its network holds its share. */
    acquire(group: G, { source, network }: ShareHolder, capacity: number, cap: number): ShareVerdict {
      const g = groups.get(group);
      const total = g?.total ?? 0;
      const bySource = g?.bySource.get(source) ?? 0;
      const byNetwork = g?.byNetwork.get(network) ?? 0;
      if (total >= capacity) return 'full';
      if (bySource >= fairShare(capacity, total - bySource, cap)) return 'source';
      if (byNetwork >= fairShare(capacity, total - byNetwork, capacity)) return 'network';
      take(group, { source, network });
      return 'taken';
    },
    /** Takes a slot for `holder` whatever the shares say (push-out.ts: a network within its floor). */
    take,
    /** Gives back a slot taken by acquire() or take(). */
    release(group: G, { source, network }: ShareHolder): void {
      const g = groups.get(group);
      if (!g || !g.bySource.has(source)) return;
      decrement(g.bySource, source);
      decrement(g.byNetwork, network);
      if (--g.total === 0) groups.delete(group);
    },
    count(group: G, { source }: ShareHolder): number {
      return groups.get(group)?.bySource.get(source) ?? 0;
    },
    networkCount(group: G, { network }: ShareHolder): number {
      return groups.get(group)?.byNetwork.get(network) ?? 0;
    },
    /** The network other than `holder`'s that holds the most slots of `group`, and how many; undefined when no other holds any. */
    largestOtherNetwork(group: G, { network }: ShareHolder): { network: string; count: number } | undefined {
      let largest: { network: string; count: number } | undefined;
      // At most `capacity` entries, and only on a refusal's path.
      for (const [other, count] of groups.get(group)?.byNetwork ?? []) {
        if (other !== network && count > (largest?.count ?? 0)) largest = { network: other, count };
      }
      return largest;
    },
    total(group: G): number {
      return groups.get(group)?.total ?? 0;
    },
  };
}
