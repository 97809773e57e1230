/**
 * The keys per-source limits count an address by. sourceKey: IPv4 as is, IPv6 by its /64 (one host usually holds a
 * whole /64, RFC 7421). networkKey: an IPv4 /24 or an IPv6 /56 (a site's usual allocation, RFC 6177), for limits that
 * must hold against many addresses of one network too. Anything that does not parse is one overflow bucket.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The key of every address that does not parse (and the bucket a bounded counter puts the sources beyond its bound into). */
export const OVERFLOW_SOURCE = '*';

/** The counting key of an address: IPv4 as is, IPv6 by its /64 prefix, anything else the overflow bucket. */
export function sourceKey(address: string): string {
  const a = normalized(address);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
}

/** The counting key of an address's network: IPv4 by its /24, IPv6 by its /56, anything else the overflow bucket. */
export function networkKey(address: string): string {
  const a = normalized(address);
  if (isIPv4(a)) return `${a.slice(0, a.lastIndexOf('.'))}.0/24`;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  const [g0, g1, g2, g3] = expandIPv6(a) as [string, string, string, string];
  // A /56 keeps the first 8 bits of the fourth group.
  return `${g0}:${g1}:${g2}:${(parseInt(g3, 16) & 0xff00).toString(16)}::/56`;
}

/** The address without an IPv6 zone and without the IPv4-mapped prefix. */
function normalized(address: string): string {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  return a;
}

/** The eight 16-bit groups of an IPv6 address, lower-case hex without leading zeros. */
function expandIPv6(a: string): string[] {
  const [head, tail] = a.toLowerCase().split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  // An embedded IPv4 tail (::1.2.3.4 forms) is two groups; only the first four groups matter here.
  const rightCount = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - rightCount).fill('0'), ...right];
  return all.map((g) => (g.includes('.') ? g : (parseInt(g, 16) || 0).toString(16)));
}
