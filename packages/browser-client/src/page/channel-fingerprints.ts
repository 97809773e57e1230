/**
 * The DTLS fingerprints a shell binds its channel to (docs/PROTOCOL.md
 * §Verified channels): its own from its local description, the agent's from
 * the certificate DTLS verified (RTCDtlsTransport.getRemoteCertificates(),
 * where the browser has it), else from the agent's answer, which came MACed.
 */
import { fingerprintOfDigest, sdpFingerprint, type ChannelFingerprints } from '@wingman/protocol';
import { settleWithin } from '../shared/settle-within';

/**
 * How long the fingerprints wait for the remote description, ms: on a busy page the channel can open
 * before the task that sets `remoteDescription` runs. The channel binding's deadline bounds the rest.
 */
const REMOTE_DESCRIPTION_WAIT_MS = 5_000;

/** Fulfilled once `pc` has a remote description (at once if it has), or it closed, or `ms` passed. */
function remoteDescriptionSet(pc: RTCPeerConnection, ms: number): Promise<void> {
  return settleWithin<void>(ms, undefined, (settle) => {
    const check = () => (pc.remoteDescription || pc.signalingState === 'closed') && settle();
    check();
    pc.addEventListener('signalingstatechange', check);
    return () => pc.removeEventListener('signalingstatechange', check);
  });
}

async function remoteFingerprint(pc: RTCPeerConnection, waitMs: number): Promise<string | undefined> {
  const transport = pc.sctp?.transport;
  // Typed as always there; older engines lack it.
  const certificates = typeof transport?.getRemoteCertificates === 'function' ? transport.getRemoteCertificates() : [];
  const leaf = certificates[0];
  if (leaf) return fingerprintOfDigest(new Uint8Array(await crypto.subtle.digest('SHA-256', leaf)));
  await remoteDescriptionSet(pc, waitMs);
  return sdpFingerprint(pc.remoteDescription?.sdp ?? '');
}

/** Throws when either end's fingerprint cannot be read (the channel then cannot be verified). */
export async function channelFingerprints(pc: RTCPeerConnection, waitMs = REMOTE_DESCRIPTION_WAIT_MS): Promise<ChannelFingerprints> {
  const viewer = sdpFingerprint(pc.localDescription?.sdp ?? '');
  const agent = await remoteFingerprint(pc, waitMs);
  if (!agent || !viewer) throw new Error('a DTLS fingerprint is missing');
  return { agent, viewer };
}
