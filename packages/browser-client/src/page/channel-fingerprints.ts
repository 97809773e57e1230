/**
 * The DTLS fingerprints a shell binds its channel to (docs/PROTOCOL.md
 * §Verified channels): its own from its local description, the agent's from
 * the certificate DTLS verified (RTCDtlsTransport.getRemoteCertificates(),
 * where the browser has it), else from the agent's answer, which came MACed.
 */
import { fingerprintOfDigest, sdpFingerprint, type ChannelFingerprints } from '@wingman/protocol';

async function remoteFingerprint(pc: RTCPeerConnection): Promise<string | undefined> {
  const transport = pc.sctp?.transport;
  // Typed as always there; older engines lack it.
  const certificates = typeof transport?.getRemoteCertificates === 'function' ? transport.getRemoteCertificates() : [];
  const leaf = certificates[0];
  if (leaf) return fingerprintOfDigest(new Uint8Array(await crypto.subtle.digest('SHA-256', leaf)));
  return sdpFingerprint(pc.remoteDescription?.sdp ?? '');
}

/** Throws when either end's fingerprint cannot be read (the channel then cannot be verified). */
export async function channelFingerprints(pc: RTCPeerConnection): Promise<ChannelFingerprints> {
  const viewer = sdpFingerprint(pc.localDescription?.sdp ?? '');
  const agent = await remoteFingerprint(pc);
  if (!agent || !viewer) throw new Error('a DTLS fingerprint is missing');
  return { agent, viewer };
}
