/**
 * Which ICE candidates the P2P host sends and accepts.
 *
 * Local: a loopback candidate only helps a viewer on this same machine, so
 * the host holds its loopback candidates back until the viewer shows a
 * loopback candidate of its own; with WINGMAN_P2P_HOST_CANDIDATES=false it
 * sends no host candidate at all (as browsers hide theirs behind mDNS), and
 * its public and relay candidates go with `raddr 0.0.0.0 rport 0` (a
 * gathered one names the LAN address and port it was mapped from, as the
 * browsers' do not), so viewers never learn the developer's LAN addresses,
 * and P2P then needs STUN or TURN.
 *
 * Remote: a viewer's candidates tell the agent where to send STUN checks. A
 * crafted offer could point them at addresses inside the developer's
 * network, so the host counts every remote candidate (those in the offer's
 * SDP too) against MAX_REMOTE_CANDIDATES and drops those it cannot
 * reasonably reach: link-local, unspecified, multicast and broadcast
 * addresses, its own addresses, and loopback unless the viewer is known to
 * be on this machine (the tunnel server itself is on loopback).
 * @see https://datatracker.ietf.org/doc/html/rfc8445#section-5.1.1.1 (host candidates)
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Remote candidates accepted per viewer's peer connection, those in its offer's SDP included (a real offer has < 20). */
export const MAX_REMOTE_CANDIDATES = 64;

/** The connection-address field of an SDP candidate line ("candidate:… 1 udp 2122260223 192.0.2.1 54321 typ host"). */
function candidateAddress(candidate: string): string | undefined {
  const parts = candidate.replace(/^a=/, '').split(/\s+/);
  // foundation component transport priority address port "typ" type …
  return parts.length >= 8 ? parts[4] : undefined;
}

export function isLoopbackCandidate(candidate: string): boolean {
  const a = candidateAddress(candidate);
  if (!a) return false;
  return a === '::1' || a.startsWith('127.') || a === 'localhost';
}

/** Counts candidate types in an SDP or candidate list (host / srflx / relay / prflx), for reports. */
function candidateType(candidate: string): string | undefined {
  const m = / typ (\w+)/.exec(candidate);
  return m?.[1];
}

/** Addresses no viewer can be reached at: link-local, unspecified, multicast, broadcast. */
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
  /** Keep loopback candidates: the viewer is on this machine (the tunnel server is on loopback). */
  acceptLoopback: boolean;
  /** This machine's own (non-loopback) addresses. */
  ownAddresses: ReadonlySet<string>;
}

/** This machine's non-loopback interface addresses (zone ids dropped). */
export function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (!i.internal) out.add(i.address.replace(/%.*$/, '').toLowerCase());
  return out;
}

/** Why the host drops a viewer's candidate (undefined: it keeps it). Names (mDNS `.local`) are kept: only a resolver on the viewer's LAN answers them. */
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

/** The `a=candidate:` lines of an SDP. */
export function sdpCandidates(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => CANDIDATE_LINE.test(l));
}

/** `sdp` without the candidate lines `drop` selects (line endings kept as CRLF, as SDP has them). */
export function withoutCandidates(sdp: string, drop: (line: string) => boolean): string {
  return sdp
    .split(/\r\n|\n/)
    .filter((l) => !(CANDIDATE_LINE.test(l) && drop(l)))
    .join('\r\n');
}

const RELATED_ADDRESS = / raddr \S+ rport \d+/g;

/** `candidate` (a line, with or without `a=`) naming no related address: `raddr 0.0.0.0 rport 0`. */
export function withoutRelatedAddress(candidate: string): string {
  return candidate.replace(RELATED_ADDRESS, ' raddr 0.0.0.0 rport 0');
}

/** Every candidate line of `sdp` naming no related address (withoutRelatedAddress). */
export function sdpWithoutRelatedAddresses(sdp: string): string {
  return sdp.replace(/^a=candidate:.*$/gm, withoutRelatedAddress);
}

/**
 * The candidates of the host's answer SDP as a viewer may see them: those
 * gathered before the answer are in it as well as trickled, and the same
 * rules hold. A loopback candidate goes only to a viewer on this machine
 * (`loopback`; else by trickle once the viewer shows one): in the answer of
 * a remote viewer it is a pair the browser checks, one pacing tick, before
 * the one that can work. `hideHost`: no host candidate, no related address.
 */
export function answerCandidates(sdp: string, rules: { loopback: boolean; hideHost: boolean }): string {
  const shown = withoutCandidates(sdp, (l) => !rules.loopback && isLoopbackCandidate(l));
  return rules.hideHost ? sdpWithoutRelatedAddresses(withoutCandidates(shown, isHostCandidate)) : shown;
}

export function isHostCandidate(candidate: string): boolean {
  return candidateType(candidate) === 'host';
}
