/**
 * Address rules of a session (`wingman http --allow-ip/--deny-ip`, docs/operations.md §Address rules): one pure verdict
 * per request, with its reason, checked by the router before every other gate on every request and upgrade of the
 * session's origin, so P2P cannot start for a refused address. A `deny` match is refused; with any `allow`, an address
 * matching none is refused; an address that does not parse (a made-up X-Forwarded-For entry) is refused whenever there
 * are rules. IPv4-mapped IPv6 is its IPv4 address. CIDRs are read with ipaddr.js.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AddressRules } from '@wingman/protocol';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** A session's rules, read once at register. */
export interface SessionAddressRules {
  readonly allow: readonly Range[];
  readonly deny: readonly Range[];
}

export type AddressVerdict =
  | { kind: 'allowed' }
  /** `denied`: a deny CIDR matched; `not-allowed`: no allow CIDR did; `unreadable`: the address is not an IP address. */
  | { kind: 'refused'; reason: 'denied' | 'not-allowed' | 'unreadable'; address: string };

/** Reads the agent's CIDRs; a problem names the first one that is not a CIDR. */
export function compileAddressRules(rules: AddressRules): SessionAddressRules | { problem: string } {
  const read = (list: string[], name: string): Range[] | string => {
    const out: Range[] = [];
    for (const cidr of list) {
      const range: Range | undefined = ipaddr.isValidCIDR(cidr) ? ipaddr.parseCIDR(cidr) : undefined;
      // Canonical only (what `wingman` sends): ipaddr.js also reads inet_aton forms, `010.0.0.0/8` = 8.0.0.0/8.
      if (!range || `${range[0].toString()}/${range[1]}` !== cidr)
        return `addressRules.${name}: ${JSON.stringify(cidr)} is not a CIDR in canonical form, such as 10.0.0.0/8 or 2001:db8::/32`;
      out.push(range);
    }
    return out;
  };
  const allow = read(rules.allow, 'allow');
  if (typeof allow === 'string') return { problem: allow };
  const deny = read(rules.deny, 'deny');
  if (typeof deny === 'string') return { problem: deny };
  return { allow, deny };
}

/** Whether `address` is in `range`, an IPv4 address also against IPv6 ranges by its mapped form (and back). */
function inRange(address: Address, [base, bits]: Range): boolean {
  if (address.kind() === base.kind()) return address.match(base, bits);
  if (address instanceof ipaddr.IPv4) return address.toIPv4MappedAddress().match(base, bits);
  return address.isIPv4MappedAddress() && address.toIPv4Address().match(base, bits);
}

/** The verdict for a viewer address under a session's rules (none: every address passes). */
export function addressVerdict(rules: SessionAddressRules | undefined, address: string): AddressVerdict {
  if (!rules) return { kind: 'allowed' };
  // node:net's reading, as everywhere else in the server: ipaddr.js alone would take `010.0.0.1` as 8.0.0.1.
  if (isIP(address) === 0 || !ipaddr.isValid(address)) return { kind: 'refused', reason: 'unreadable', address };
  // process(): an IPv4-mapped IPv6 address becomes its IPv4 address; a zone (`%eth0`) is kept and ignored by match().
  const parsed = ipaddr.process(address);
  if (rules.deny.some((r) => inRange(parsed, r))) return { kind: 'refused', reason: 'denied', address };
  if (rules.allow.length > 0 && !rules.allow.some((r) => inRange(parsed, r))) return { kind: 'refused', reason: 'not-allowed', address };
  return { kind: 'allowed' };
}
