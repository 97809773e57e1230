/**
 * The key per-source limits count an address by: an IPv4 address as is, an
 * IPv6 address by its /64 (one host usually holds a whole /64, so counting
 * single addresses would let it take limits without bound), anything else
 * one overflow bucket. The password throttle, the per-viewer stream quota,
 * the signaling quota, the viewer gate and the connection guard all count by it.
 * @see https://www.rfc-editor.org/rfc/rfc7421 (the /64 boundary)
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The key of every address that does not parse (and the bucket a bounded counter puts the sources beyond its bound into). */
export const OVERFLOW_SOURCE = '*';

/** The counting key of an address: IPv4 as is, IPv6 by its /64 prefix, anything else the overflow bucket. */
export function sourceKey(address: string): string {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return OVERFLOW_SOURCE;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
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
