/**
 * The local offer of a resumed peer connection (docs/PROTOCOL.md §Resumed
 * peer connections), made the same way by the inline script's early attempt
 * (early-attempt-inline.ts) and client.js's (peer-attempt.ts), whichever
 * has the hello first: the offer with the kept offer's ICE credentials (the
 * agent answered those), then the kept answer at once. A browser that
 * refuses either goes on from scratch: the offer as made, and the agent's
 * answer as usual.
 */
import { predictedCandidateLine } from '@wingman/protocol';
import { withIceCredentials, type ResumeRecord } from './resume-record';

/** What the inline script hands client.js: the record it took, and the certificate it is reading. */
export interface ResumeHandover {
  record: ResumeRecord;
  certificate(): Promise<RTCCertificate | undefined>;
}

/**
 * How long the peer connections wait for the kept certificate after the
 * hello, ms: IndexedDB's first open in a new page took 30–60 ms here, less
 * than the signaling socket's round trip on a WAN, more on loopback.
 */
export const CERTIFICATE_WAIT_MS = 250;

/** The certificate, or undefined if it is not read within `ms`. */
export function certificateWithin(c: Promise<RTCCertificate | undefined>, ms: number): Promise<RTCCertificate | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void c.then(
      (v) => (clearTimeout(timer), resolve(v)),
      () => (clearTimeout(timer), resolve(undefined)),
    );
  });
}

/** Sets `pc`'s local offer (and the kept answer); fulfilled with whether it resumed. */
export async function resumeLocalOffer(pc: RTCPeerConnection, offer: RTCSessionDescriptionInit, r: ResumeRecord): Promise<boolean> {
  try {
    await pc.setLocalDescription({ type: 'offer', sdp: withIceCredentials(offer.sdp ?? '', r.ufrag, r.pwd) });
  } catch {
    await pc.setLocalDescription(offer);
    return false;
  }
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: r.answer });
    return true;
  } catch {
    return false; // the kept answer did not fit: the agent's answer comes as usual
  }
}

/** "candidate:<foundation> 1 udp <priority> <address or mDNS name> <port> typ host" */
const HOST_UDP = /^candidate:(\S+) 1 udp \d+ \S+ (\d{1,5}) typ host\b/i;

/**
 * The resumed peer connection's candidate for `host` on the tab's public
 * address (the record's): with a port-keeping NAT, the agent can check it a
 * STUN round trip before the browser has gathered it. Undefined for any
 * other candidate, or without a kept address.
 */
export function predictedPublic(host: RTCIceCandidateInit, r: ResumeRecord): RTCIceCandidateInit | undefined {
  const m = r.publicAddress ? HOST_UDP.exec(host.candidate ?? '') : null;
  if (!m) return undefined;
  return { candidate: predictedCandidateLine(m[1]!, r.publicAddress!, m[2]!), sdpMid: host.sdpMid ?? null, sdpMLineIndex: host.sdpMLineIndex ?? null };
}

/** The public address of a peer connection's own server-reflexive candidate (IPv4), from its stats. */
export async function publicAddressOf(pc: RTCPeerConnection): Promise<string | undefined> {
  const report = await pc.getStats();
  let found: string | undefined;
  report.forEach((s: { type?: string; candidateType?: string; address?: string; protocol?: string }) => {
    if (s.type === 'local-candidate' && s.candidateType === 'srflx' && s.protocol === 'udp' && /^\d{1,3}(\.\d{1,3}){3}$/.test(s.address ?? ''))
      found ??= s.address;
  });
  return found;
}
