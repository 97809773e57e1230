/**
 * Address rules on the wire (`--allow-ip/--deny-ip`): only their shape here; what a CIDR means is the
 * tunnel server's and the agent's to check. docs/PROTOCOL.md §Agent control channel.
 */
import { protocolError } from './errors';
import { asObject, onlyKeys, type Obj } from './json-fields';

/** The viewer addresses a session admits: `allow` (empty: every address) minus `deny`. CIDRs such as `10.0.0.0/8`, `2001:db8::/32`. */
export interface AddressRules {
  allow: string[];
  deny: string[];
}

/** A team's offices and VPNs are a handful; bounds the work per request and the register's size. */
export const MAX_ADDRESS_RULES = 64;
/** An IPv6 address in full with an embedded IPv4 tail (45) and `/128`. */
export const MAX_CIDR_CHARS = 49;

function cidrList(o: Obj, k: 'allow' | 'deny'): string[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length > MAX_ADDRESS_RULES)
    throw protocolError('ERR_INVALID_PAYLOAD', `"addressRules.${k}" must be a list of at most ${MAX_ADDRESS_RULES} CIDRs`);
  return v.map((c: unknown) => {
    if (typeof c !== 'string' || c.length === 0 || c.length > MAX_CIDR_CHARS)
      throw protocolError('ERR_INVALID_PAYLOAD', `"addressRules.${k}" holds a value that is not a CIDR of 1-${MAX_CIDR_CHARS} chars`);
    return c;
  });
}

/** The register's `addressRules`: `{ allow, deny }`, at least one rule in all. */
export function parseAddressRules(v: unknown): AddressRules {
  const o = asObject(v, '"addressRules"');
  onlyKeys(o, ['allow', 'deny']);
  const rules = { allow: cidrList(o, 'allow'), deny: cidrList(o, 'deny') };
  if (rules.allow.length + rules.deny.length === 0) throw protocolError('ERR_INVALID_PAYLOAD', '"addressRules" names no CIDR: leave it out instead');
  return rules;
}
