/**
 * `--allow-ip` / `--deny-ip` (and `policy.allowIp` / `denyIp`) checked into the
 * normalised CIDRs the register carries, so a typo stops `wingman` before it
 * connects: a bare address is one host; addresses as node:net reads them; a
 * prefix with host bits set (`10.1.2.3/8`) is refused with the network it
 * most likely meant.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { MAX_ADDRESS_RULES, type AddressRules } from '@wingman/protocol';
import { UsageError } from './usage-error';

function normalisedCidr(text: string, flag: string): string {
  const value = text.trim();
  const problem = `invalid ${flag} "${text}": expected an IPv4 or IPv6 address or CIDR, e.g. 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32`;
  const [address, bits, extra] = value.split('/');
  // Only the forms everyone reads alike: ipaddr.js also takes inet_aton's (`10.1`, `010.0.0.1` = 8.0.0.1), which node:net refuses.
  if (extra !== undefined || value.includes('%') || isIP(address ?? '') === 0 || (bits !== undefined && !/^[0-9]{1,3}$/.test(bits)))
    throw new UsageError(problem);
  if (bits === undefined) {
    const host = ipaddr.parse(value);
    return `${host.toString()}/${host.kind() === 'ipv4' ? 32 : 128}`;
  }
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(value);
  } catch {
    throw new UsageError(problem);
  }
  const [base, prefix] = range;
  const network = base.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(value) : ipaddr.IPv6.networkAddressFromCIDR(value);
  if (network.toString() !== base.toString())
    throw new UsageError(
      `invalid ${flag} "${text}": ${base.toString()} has bits set past the /${prefix} prefix; did you mean ${network.toString()}/${prefix}?`,
    );
  return `${network.toString()}/${prefix}`;
}

function cidrs(values: readonly string[] | undefined, flag: string): string[] {
  const list = (values ?? []).map((v) => normalisedCidr(v, flag));
  if (list.length > MAX_ADDRESS_RULES) throw new UsageError(`${flag}: ${list.length} given, at most ${MAX_ADDRESS_RULES}`);
  return [...new Set(list)];
}

/** The session's address rules, or undefined when neither flag is given. */
export function resolveAddressRules(allowIp: readonly string[] | undefined, denyIp: readonly string[] | undefined): AddressRules | undefined {
  const rules = { allow: cidrs(allowIp, '--allow-ip'), deny: cidrs(denyIp, '--deny-ip') };
  return rules.allow.length + rules.deny.length > 0 ? rules : undefined;
}

/** commander's collector of a repeatable option: each occurrence appends. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
