/**
 * Address rules of a session (`wingman http --allow-ip/--deny-ip`): which viewer addresses may reach anything of it.
 * One pure verdict per request, with its reason, checked by the router before every other gate (link, password,
 * viewer), on every request and upgrade of the session's origin: relayed HTTP, the shell and the Service Worker's
 * fetches, relayed WebSockets and signaling, so P2P cannot start for a refused address.
 *
 * The rules: an address matched by a `deny` CIDR is refused; with any `allow` CIDR, an address matched by none of
 * them is refused; everything else passes. An address that does not parse as IPv4 or IPv6 (a made-up X-Forwarded-For
 * entry behind `TRUST_PROXY`) is refused whenever there are rules: they cannot be applied to it. IPv4-mapped IPv6
 * addresses (`::ffff:10.1.2.3`) are their IPv4 address, both ways.
 *
 * The address is the one the server resolves for every per-viewer limit (viewers/viewer-address.ts: the socket's
 * peer, or the `TRUST_PROXY`-th X-Forwarded-For entry from the right, or a cluster node's signed hop). CIDRs are read
 * with ipaddr.js (also what express's `trust proxy` uses).
 * @see https://www.rfc-editor.org/rfc/rfc4632#section-3.1 (CIDR prefixes)
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
  /** As the agent sent them, for logs. */
  readonly source: AddressRules;
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
      let range: Range | undefined;
      try {
        range = ipaddr.parseCIDR(cidr);
      } catch {
        range = undefined;
      }
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
  return { allow, deny, source: rules };
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
  let parsed: Address;
  // node:net's reading, as everywhere else in the server: ipaddr.js alone would take `010.0.0.1` as 8.0.0.1.
  if (isIP(address) === 0) return { kind: 'refused', reason: 'unreadable', address };
  try {
    // process(): an IPv4-mapped IPv6 address becomes its IPv4 address; a zone (`%eth0`) is kept and ignored by match().
    parsed = ipaddr.process(address);
  } catch {
    return { kind: 'refused', reason: 'unreadable', address };
  }
  if (rules.deny.some((r) => inRange(parsed, r))) return { kind: 'refused', reason: 'denied', address };
  if (rules.allow.length > 0 && !rules.allow.some((r) => inRange(parsed, r))) return { kind: 'refused', reason: 'not-allowed', address };
  return { kind: 'allowed' };
}
