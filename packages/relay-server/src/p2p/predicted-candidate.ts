/**
 * The agent's public candidate, sent before its STUN server has confirmed it.
 *
 * Why: behind a NAT, the viewer's first check that can reach the agent goes
 * to the agent's server-reflexive (public) candidate, and the viewer's own
 * NAT drops the agent's checks until the viewer has sent that one. The
 * agent learns its public candidate from its STUN server, one round trip to
 * the server after the viewer's offer arrived: on a far server the answer
 * reached the page ~80 ms before the candidate did, and ICE waited for it
 * (docs/lab-log.md §Set-up race).
 *
 * Most NATs keep a socket's source port when they map it (Linux's
 * MASQUERADE does; RFC 4787 §4.1 calls it port preservation), and a
 * developer's public address rarely changes between two viewers. So once a
 * gathering has shown a public address and that the NAT kept the port
 * (`observe`), each new host candidate goes out with its prediction right
 * behind it (`predict`): the public address, the host candidate's port. The
 * page checks it as soon as it has the answer. Where the prediction is
 * wrong (the NAT chose another port, the address changed) the page's check
 * to it fails like any unreachable pair, and the gathered candidate, sent as
 * ever, connects. A NAT seen to change ports (endpoint-dependent mapping,
 * where STUN does not help either) stops the predictions until a gathering
 * shows a kept port again.
 *
 * A prediction names no private address (`raddr 0.0.0.0 rport 0`, as
 * browsers send theirs): it tells a viewer nothing a gathered public
 * candidate would not.
 */

/** What the last gathering showed: the public IPv4 address, and whether the NAT kept the source port. */
export interface PublicMapping {
  address: string;
  keepsPort: boolean;
}

/** The part of an ICE candidate this module reads and writes (RTCIceCandidateInit). */
export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** "candidate:<foundation> <component> udp <priority> <address> <port> typ <type> [raddr <a> rport <p>] …" */
const UDP_CANDIDATE = /^(?:a=)?candidate:(\S+) (\d+) udp (\d+) (\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5}) typ (host|srflx)(?: raddr (\S+) rport (\d{1,5}))?/i;

/** IPv4 ranges a public address is never in: loopback, unspecified, link-local, multicast and above. */
function isPublicCandidateAddress(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return !(a === 0 || a === 127 || (a === 169 && b === 254) || a >= 224);
}

/**
 * The ICE priority of a prediction (RFC 8445 §5.1.2.1): the server-reflexive
 * type preference (100, as libwebrtc and the browsers use), the highest local
 * preference, component 1. Below every host candidate, so a viewer on the
 * same LAN still prefers the direct pair; above libwebrtc's own gathered srflx.
 */
export const PREDICTED_PRIORITY = 100 * 2 ** 24 + 65535 * 2 ** 8 + 255;

/** Remembers the agent's public mapping from its own gathered candidates, and predicts from it. */
export class PublicAddressMemory {
  private mapping: PublicMapping | undefined;

  /** The mapping the last gathered public candidate showed, if any. */
  current(): PublicMapping | undefined {
    return this.mapping;
  }

  /**
   * Feeds one of the agent's own gathered candidates: a server-reflexive
   * IPv4 UDP candidate updates the mapping. Returns true when it did.
   */
  observe(candidate: string): boolean {
    const m = UDP_CANDIDATE.exec(candidate);
    if (!m || m[6]!.toLowerCase() !== 'srflx' || m[7] === undefined || m[8] === undefined) return false;
    const address = m[4]!;
    if (!isPublicCandidateAddress(address)) return false;
    this.mapping = { address, keepsPort: m[5] === m[8] };
    return true;
  }

  /**
   * The public candidate a port-keeping NAT maps this host candidate to, or
   * undefined: no mapping known, a NAT that changed ports, not an IPv4 UDP
   * host candidate, a loopback or link-local one, or one already on the
   * public address (no NAT in between).
   */
  predict(host: CandidateInit): CandidateInit | undefined {
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
