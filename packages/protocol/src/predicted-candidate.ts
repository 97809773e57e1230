/**
 * A predicted public (server-reflexive) ICE candidate: a host candidate's
 * port on the public address its NAT showed before, sent ahead of the STUN
 * round trip that would confirm it. The agent predicts its own
 * (docs/PROTOCOL.md §Predicted public candidates); a shell resuming a
 * prepared peer connection predicts the page's (§Resumed peer connections).
 */

/**
 * The ICE priority of a prediction (RFC 8445 §5.1.2.1): the server-reflexive
 * type preference (100, as libwebrtc and the browsers use), the highest local
 * preference, component 1. Below every host candidate, so a peer on the
 * same LAN still prefers the direct pair; above libwebrtc's own gathered srflx.
 */
export const PREDICTED_PRIORITY = 100 * 2 ** 24 + 65535 * 2 ** 8 + 255;

/** The candidate line predicting `port` on `address`, named after the host candidate's foundation. */
export function predictedCandidateLine(foundation: string, address: string, port: string | number): string {
  return `candidate:p${foundation.slice(0, 31)} 1 udp ${PREDICTED_PRIORITY} ${address} ${port} typ srflx raddr 0.0.0.0 rport 0 generation 0`;
}
