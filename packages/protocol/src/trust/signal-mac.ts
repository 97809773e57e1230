/**
 * Authenticated signaling: an HMAC under a key derived from the link key on every offer, answer and
 * candidate, over its sender, viewer id, type and content, so the relaying server cannot swap the SDP's
 * fingerprints, reflect or replay a message. docs/PROTOCOL.md §Verified channels.
 */
import { fromBase64url, toBase64url } from './base64url';
import { hkdfHmacKey, utf8, webCrypto, type CryptoKeyLike } from './webcrypto';

/** Prefix of everything signed, so a later scheme cannot be confused with this one. */
export const TRUST_VERSION = 'wingman-v1';

export const SIGNAL_MAC_CHARS = 43;

export interface TrustKeys {
  readonly signal: CryptoKeyLike;
  /** Signs the channel-binding proofs. */
  readonly bind: CryptoKeyLike;
  readonly sessionId: string;
}

export async function deriveTrustKeys(linkKey: Uint8Array, sessionId: string): Promise<TrustKeys> {
  const salt = `${TRUST_VERSION} ${sessionId}`;
  const [signal, bind] = await Promise.all([hkdfHmacKey(linkKey, salt, 'signal'), hkdfHmacKey(linkKey, salt, 'bind')]);
  return { signal, bind, sessionId };
}

export type SignalSender = 'viewer' | 'agent';

/** The signaling messages that carry a MAC, as their content is signed. */
export type MacedSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice-candidate'; candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } }
  | { type: 'end-of-candidates' };

export function isMacedType(type: string): boolean {
  return type === 'offer' || type === 'answer' || type === 'ice-candidate' || type === 'end-of-candidates';
}

/** Unambiguous: no field but the last can hold a newline. */
function signedText(from: SignalSender, viewerId: string, m: MacedSignal): string {
  let content = '';
  if (m.type === 'ice-candidate') content = `${m.candidate.sdpMid ?? ''}\n${m.candidate.sdpMLineIndex ?? ''}\n${m.candidate.candidate}`;
  else if (m.type !== 'end-of-candidates') content = m.sdp;
  return `${TRUST_VERSION}\nsignal\n${from}\n${viewerId}\n${m.type}\n${content}`;
}

export async function signalMac(keys: TrustKeys, from: SignalSender, viewerId: string, m: MacedSignal): Promise<string> {
  const tag = await webCrypto().subtle.sign('HMAC', keys.signal, utf8(signedText(from, viewerId, m)));
  return toBase64url(new Uint8Array(tag));
}

/** Constant-time (WebCrypto's verify). */
export async function signalMacValid(keys: TrustKeys, from: SignalSender, viewerId: string, m: MacedSignal, mac: string | undefined): Promise<boolean> {
  if (mac === undefined || mac.length !== SIGNAL_MAC_CHARS) return false;
  const tag = fromBase64url(mac);
  if (!tag) return false;
  return webCrypto().subtle.verify('HMAC', keys.signal, tag, utf8(signedText(from, viewerId, m)));
}
