/**
 * The agent's public candidate, sent before its STUN server has confirmed it: behind a NAT that keeps a socket's
 * port (Linux's MASQUERADE does; RFC 4787 §4.1), each host candidate's public twin is the last gathering's public
 * address with the host candidate's port. The viewer's NAT drops the agent's checks until the viewer has sent to
 * that candidate, and gathered it comes a STUN round trip after the offer. A wrong prediction is a pair that fails;
 * a NAT seen to change ports stops predictions. docs/PROTOCOL.md §Predicted public candidates.
 */
import type { IceCandidateInit } from '@wingman/protocol';

/** What the last gathering showed: the public IPv4 address, and whether the NAT kept the source port. */
export interface PublicMapping {
  address: string;
  keepsPort: boolean;
}

/** "candidate:<foundation> <component> udp <priority> <address> <port> typ <type> [raddr <a> rport <p>] …" */
const UDP_CANDIDATE = /^(?:a=)?candidate:(\S+) (\d+) udp (\d+) (\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5}) typ (host|srflx)(?: raddr (\S+) rport (\d{1,5}))?/i;

/** IPv4 ranges a public address is never in: loopback, unspecified, link-local, multicast and above. */
function isPublicCandidateAddress(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return !(a === 0 || a === 127 || (a === 169 && b === 254) || a >= 224);
}

/** ICE priority (RFC 8445 §5.1.2.1): srflx type preference 100, the highest local preference: below every host candidate, above a gathered srflx. */
export const PREDICTED_PRIORITY = 100 * 2 ** 24 + 65535 * 2 ** 8 + 255;

/** Remembers the agent's public mapping from its own gathered candidates, and predicts from it. */
export class PublicAddressMemory {
  private mapping: PublicMapping | undefined;

  /** The mapping the last gathered public candidate showed, if any. */
  current(): PublicMapping | undefined {
    return this.mapping;
  }

  /** Feeds one of the agent's own gathered candidates: a server-reflexive IPv4 UDP one updates the mapping (returns true). */
  observe(candidate: string): boolean {
    const m = UDP_CANDIDATE.exec(candidate);
    if (!m || m[6]!.toLowerCase() !== 'srflx' || m[7] === undefined || m[8] === undefined) return false;
    const address = m[4]!;
    if (!isPublicCandidateAddress(address)) return false;
    this.mapping = { address, keepsPort: m[5] === m[8] };
    return true;
  }

  /** The public twin of an IPv4 UDP host candidate behind a port-keeping NAT (`raddr 0.0.0.0`: it names no LAN address), or undefined. */
  predict(host: IceCandidateInit): IceCandidateInit | undefined {
    const mapping = this.mapping;
    if (!mapping?.keepsPort) return undefined;
    const m = UDP_CANDIDATE.exec(host.candidate);
    if (!m || m[6]!.toLowerCase() !== 'host') return undefined;
    const [, foundation, component, , address, port] = m;
    if (component !== '1' || !isPublicCandidateAddress(address!) || address === mapping.address) return undefined;
    return {
      candidate: `candidate:p${foundation!.slice(0, 31)} 1 udp ${PREDICTED_PRIORITY} ${mapping.address} ${port} typ srflx raddr 0.0.0.0 rport 0 generation 0`,
      sdpMid: host.sdpMid ?? null,
      sdpMLineIndex: host.sdpMLineIndex ?? null,
    };
  }
}

/** The STUN URLs among `iceServers` (a TURN server would allocate a relay for nothing). */
export function stunOnly(iceServers: ReadonlyArray<{ urls: readonly string[] }>): string[] {
  return iceServers.flatMap((s) => s.urls.filter((u) => /^stuns?:/i.test(u)));
}
