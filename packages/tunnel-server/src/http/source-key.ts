/**
 * The keys per-source limits count an address by. sourceKey: IPv4 as is, IPv6 by its /64 (one host usually holds a
 * whole /64, RFC 7421). networkKey: an IPv4 /24 or an IPv6 /56 (a site's usual allocation, RFC 6177), for limits that
 * must hold against many addresses of one network too. Anything that does not parse is one overflow bucket.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The key of every address that does not parse (and the bucket a bounded counter puts the sources beyond its bound into). */
export const OVERFLOW_SOURCE = '*';

/** The counting key of an address: IPv4 as is, IPv6 by its /64 prefix, anything else the overflow bucket. */
export function sourceKey(address: string): string {
  const a = normalized(address);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  return `${hexGroups(a, 0xffff)}::/64`;
}

/** The counting key of an address's network: IPv4 by its /24, IPv6 by its /56, anything else the overflow bucket. */
export function networkKey(address: string): string {
  const a = normalized(address);
  if (isIPv4(a)) return `${a.slice(0, a.lastIndexOf('.'))}.0/24`;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  // A /56 keeps the first 8 bits of the fourth group.
  return `${hexGroups(a, 0xff00)}::/56`;
}

/** The address without an IPv6 zone and without the IPv4-mapped prefix. */
function normalized(address: string): string {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  return a;
}

/** The first four 16-bit groups of an IPv6 address, the fourth masked with `lastMask`: lower-case hex without leading zeros. */
function hexGroups(a: string, lastMask: number): string {
  const [g0, g1, g2, g3] = ipaddr.IPv6.parse(a).parts as [number, number, number, number];
  return [g0, g1, g2, g3 & lastMask].map((g) => g.toString(16)).join(':');
}

/** Takes one from `key`'s count in a map of counters by key (a count goes at zero). */
export function decrement(counts: Map<string, number>, key: string): void {
  const n = counts.get(key) ?? 0;
  if (n > 1) counts.set(key, n - 1);
  else counts.delete(key);
}
