/**
 * Which ICE candidates the P2P host sends and accepts. Sent: loopback ones only once the viewer shows a loopback
 * candidate of its own; with WINGMAN_P2P_HOST_CANDIDATES=false no host candidate and `raddr 0.0.0.0 rport 0`, so viewers
 * never learn the LAN addresses (as browsers hide theirs). Accepted: a crafted offer could aim STUN checks inside the
 * developer's network, so remote candidates are counted and those it cannot reasonably reach are dropped (link-local,
 * unspecified, multicast, broadcast, its own, loopback unless the viewer is on this machine).
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isLoopbackHost } from '../loopback-host';
import { candidateKind } from './ice-trace';

/** Remote candidates accepted per viewer's peer connection, those in its offer's SDP included (a real offer has < 20). */
export const MAX_REMOTE_CANDIDATES = 64;

/** The connection-address field of an SDP candidate line. */
export function candidateAddress(candidate: string): string | undefined {
  const parts = candidate.replace(/^a=/, '').split(/\s+/);
  // foundation component transport priority address port "typ" type …
  return parts.length >= 8 ? parts[4] : undefined;
}

export function isLoopbackCandidate(candidate: string): boolean {
  const a = candidateAddress(candidate);
  return a !== undefined && isLoopbackHost(a);
}

const UNREACHABLE = new BlockList();
UNREACHABLE.addSubnet('169.254.0.0', 16, 'ipv4');
UNREACHABLE.addSubnet('0.0.0.0', 8, 'ipv4');
UNREACHABLE.addSubnet('224.0.0.0', 4, 'ipv4');
UNREACHABLE.addAddress('255.255.255.255', 'ipv4');
UNREACHABLE.addSubnet('fe80::', 10, 'ipv6');
UNREACHABLE.addAddress('::', 'ipv6');
UNREACHABLE.addSubnet('ff00::', 8, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export interface RemoteCandidatePolicy {
  /** The viewer is on this machine (the tunnel server is on loopback). */
  acceptLoopback: boolean;
  /** Non-loopback. */
  ownAddresses: ReadonlySet<string>;
}

/** Zone ids dropped. */
export function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (!i.internal) out.add(i.address.replace(/%.*$/, '').toLowerCase());
  return out;
}

/** Undefined: kept. Names (mDNS `.local`) are kept: only a resolver on the viewer's LAN answers them. */
export function unreachableReason(candidate: string, policy: RemoteCandidatePolicy): string | undefined {
  const address = candidateAddress(candidate)?.toLowerCase();
  if (address === undefined) return 'not a candidate line';
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (UNREACHABLE.check(address, type)) return 'link-local, unspecified, multicast or broadcast address';
  if (LOOPBACK.check(address, type)) return policy.acceptLoopback ? undefined : 'loopback address of a viewer not on this machine';
  if (policy.ownAddresses.has(address)) return "the agent's own address";
  return undefined;
}

const CANDIDATE_LINE = /^a=candidate:/;

export function sdpCandidates(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => CANDIDATE_LINE.test(l));
}

/** Line endings kept as CRLF. */
export function withoutCandidates(sdp: string, drop: (line: string) => boolean): string {
  return sdp
    .split(/\r\n|\n/)
    .filter((l) => !(CANDIDATE_LINE.test(l) && drop(l)))
    .join('\r\n');
}

const RELATED_ADDRESS = / raddr \S+ rport \d+/g;

/** `raddr 0.0.0.0 rport 0`. */
export function withoutRelatedAddress(candidate: string): string {
  return candidate.replace(RELATED_ADDRESS, ' raddr 0.0.0.0 rport 0');
}

export function sdpWithoutRelatedAddresses(sdp: string): string {
  return sdp.replace(/^a=candidate:.*$/gm, withoutRelatedAddress);
}

/**
 * The answer SDP's candidates as a viewer may see them, by the same rules as
 * trickled ones: a loopback pair in a remote viewer's answer costs a pacing
 * tick before the one that can work. `held`: lines trickled later instead (a host candidate behind its
 * prediction, host-candidate-hold.ts). `hideHost`: no host candidate, no related address.
 */
export function answerCandidates(sdp: string, rules: { loopback: boolean; hideHost: boolean; held?: (line: string) => boolean }): string {
  const held = rules.held;
  const shown = withoutCandidates(sdp, (l) => (!rules.loopback && isLoopbackCandidate(l)) || (held !== undefined && held(l)));
  return rules.hideHost ? sdpWithoutRelatedAddresses(withoutCandidates(shown, isHostCandidate)) : shown;
}

export function isHostCandidate(candidate: string): boolean {
  return candidateKind(candidate).startsWith('host ');
}
