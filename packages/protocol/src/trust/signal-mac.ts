/**
 * Authenticated signaling: the agent and a viewer holding the link key MAC
 * every offer, answer, candidate and end of candidates they send
 * (HMAC-SHA-256 under a key derived with HKDF from the link key and the
 * session id). The tunnel server relays the MAC unchanged; a message whose
 * MAC is wrong is dropped by its receiver, so the server can no longer swap
 * the DTLS fingerprints inside the SDP. The MAC covers who sends it (viewer
 * or agent: a message cannot be reflected back), the signaling viewer id (a
 * message cannot be replayed into another viewer's attempt), the type and
 * the message's content. Spec: docs/PROTOCOL.md §Verified channels.
 */
import { fromBase64url, toBase64url } from './base64url';
import { hkdfHmacKey, utf8, webCrypto, type CryptoKeyLike } from './webcrypto';

/** Prefix of everything the link key's keys sign: a version, so a later scheme cannot be confused with this one. */
export const TRUST_VERSION = 'wingman-v1';

/** Length of a MAC's base64url text (32 bytes). */
export const SIGNAL_MAC_CHARS = 43;

/** The keys derived from one link key for one session. */
export interface TrustKeys {
  /** Signs signaling messages. */
  readonly signal: CryptoKeyLike;
  /** Signs the channel-binding proofs (channel-binding.ts). */
  readonly bind: CryptoKeyLike;
  readonly sessionId: string;
}

/** Derives a session's keys from its link key's bytes. */
export async function deriveTrustKeys(linkKey: Uint8Array, sessionId: string): Promise<TrustKeys> {
  const salt = `${TRUST_VERSION} ${sessionId}`;
  const [signal, bind] = await Promise.all([hkdfHmacKey(linkKey, salt, 'signal'), hkdfHmacKey(linkKey, salt, 'bind')]);
  return { signal, bind, sessionId };
}

/** Who sends a signaling message. */
export type SignalSender = 'viewer' | 'agent';

/** The signaling messages that carry a MAC, as their content is signed. */
export type MacedSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice-candidate'; candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } }
  | { type: 'end-of-candidates' };

/** Whether a message's type is one that carries a MAC. */
export function isMacedType(type: string): boolean {
  return type === 'offer' || type === 'answer' || type === 'ice-candidate' || type === 'end-of-candidates';
}

/**
 * The signed text: unambiguous because every field but the last has a fixed
 * shape (no newline in any of them).
 */
function signedText(from: SignalSender, viewerId: string, m: MacedSignal): string {
  let content = '';
  if (m.type === 'ice-candidate') content = `${m.candidate.sdpMid ?? ''}\n${m.candidate.sdpMLineIndex ?? ''}\n${m.candidate.candidate}`;
  else if (m.type !== 'end-of-candidates') content = m.sdp;
  return `${TRUST_VERSION}\nsignal\n${from}\n${viewerId}\n${m.type}\n${content}`;
}

/** The MAC of one message, base64url. */
export async function signalMac(keys: TrustKeys, from: SignalSender, viewerId: string, m: MacedSignal): Promise<string> {
  const tag = await webCrypto().subtle.sign('HMAC', keys.signal, utf8(signedText(from, viewerId, m)));
  return toBase64url(new Uint8Array(tag));
}

/** Whether `mac` is the MAC of the message (constant-time comparison by WebCrypto's verify). */
export async function signalMacValid(keys: TrustKeys, from: SignalSender, viewerId: string, m: MacedSignal, mac: string | undefined): Promise<boolean> {
  if (mac === undefined || mac.length !== SIGNAL_MAC_CHARS) return false;
  const tag = fromBase64url(mac);
  if (!tag) return false;
  return webCrypto().subtle.verify('HMAC', keys.signal, tag, utf8(signedText(from, viewerId, m)));
}
