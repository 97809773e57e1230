/**
 * What a tab keeps for its next page load's resumed peer connection
 * (docs/PROTOCOL.md §Resumed peer connections): the agent's answer to an
 * offer made ahead, that offer's ICE credentials and the token the agent
 * parked its peer connection under, in this origin's sessionStorage (one
 * tab's); the certificate the offer was made with, in IndexedDB
 * (RTCCertificate is kept there as it is, its private key never leaves the
 * browser). client.js writes them (peer-attempt.ts); the next page's
 * inline script takes the record, once (early-attempt-inline.ts).
 *
 * The app in the frame shares the origin and could change either: the
 * channel binding still checks the DTLS fingerprints the agent signed, so a
 * changed record only costs the resumed peer connection.
 */
import { MAX_P2P_PEER_CONNECTIONS, RESUME_TOKEN_PATTERN, type P2PSettings } from '@wingman/protocol';
import { createKvStore, type KvStore } from '../sw/idb';

/** sessionStorage item of the record. */
export const RESUME_RECORD_ITEM = 'wingman-resume';

/** IndexedDB key of the certificate. */
export const RESUME_CERTIFICATE_KEY = 'resume-certificate';

/** A record older than this is not used: the agent closes a parked peer connection after 5 minutes (relay-server prepared-peers.ts). */
export const RESUME_RECORD_MAX_AGE_MS = 4 * 60_000;

/**
 * What the next page load needs of its hello to make its peer connections
 * before the hello is in (signal-batch.ts): the session's P2P settings as
 * the previous page's hello gave them. STUN servers only: TURN credentials
 * expire, and a tab whose channel went through TURN prepares nothing.
 */
export interface KeptSettings {
  stunUrls: string[];
  videoSection: boolean;
  peerConnections: number;
}

/** At most this many STUN URLs are kept. */
const MAX_KEPT_STUN_URLS = 8;

/** The settings a record keeps from a hello's `p2p`. */
export function keptSettings(p2p: Pick<P2PSettings, 'iceServers' | 'videoSection' | 'peerConnections'>): KeptSettings {
  const stunUrls = p2p.iceServers.flatMap((s) => s.urls).filter((u) => /^stuns?:/i.test(u));
  return { stunUrls: stunUrls.slice(0, MAX_KEPT_STUN_URLS), videoSection: p2p.videoSection === true, peerConnections: p2p.peerConnections ?? 1 };
}

function validSettings(v: unknown): KeptSettings | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { stunUrls, videoSection, peerConnections } = v as Partial<KeptSettings>;
  if (
    !Array.isArray(stunUrls) ||
    stunUrls.length > MAX_KEPT_STUN_URLS ||
    !stunUrls.every((u) => typeof u === 'string' && u.length <= 512 && /^stuns?:/i.test(u))
  )
    return undefined;
  if (typeof videoSection !== 'boolean' || !Number.isSafeInteger(peerConnections) || peerConnections! < 1 || peerConnections! > MAX_P2P_PEER_CONNECTIONS)
    return undefined;
  return { stunUrls: stunUrls.slice(), videoSection, peerConnections: peerConnections! };
}

export interface ResumeRecord {
  /** The agent's token for its parked peer connection. */
  resume: string;
  /** The agent's answer, its candidates in it. */
  answer: string;
  /** The ICE credentials of the offer it answered. */
  ufrag: string;
  pwd: string;
  /** When it was kept (Date.now()). */
  at: number;
  /** The tab's public IPv4 address as its previous peer connection saw it (resume-offer.ts predictedPublic). */
  publicAddress?: string;
  /** The session's P2P settings as the hello of the page that kept the record gave them. */
  settings?: KeptSettings;
}

/** The ICE credentials of an SDP (its first media section's). */
export function iceCredentials(sdp: string): { ufrag: string; pwd: string } | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)\r?$/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)\r?$/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

/** `sdp` with every section's ICE credentials replaced by `ufrag` and `pwd`. */
export function withIceCredentials(sdp: string, ufrag: string, pwd: string): string {
  return sdp.replace(/^a=ice-ufrag:\S+(\r?)$/gm, `a=ice-ufrag:${ufrag}$1`).replace(/^a=ice-pwd:\S+(\r?)$/gm, `a=ice-pwd:${pwd}$1`);
}

export function keepResumeRecord(r: ResumeRecord): void {
  try {
    sessionStorage.setItem(RESUME_RECORD_ITEM, JSON.stringify(r));
  } catch {
    /* storage disabled: the next load negotiates from scratch */
  }
}

/** The tab's record, removed (a token is good for one claim), when it is well formed and young enough. */
export function takeResumeRecord(now = Date.now()): ResumeRecord | undefined {
  let text: string | null;
  try {
    text = sessionStorage.getItem(RESUME_RECORD_ITEM);
    sessionStorage.removeItem(RESUME_RECORD_ITEM);
  } catch {
    return undefined;
  }
  if (text === null) return undefined;
  try {
    return validResumeRecord(JSON.parse(text), now);
  } catch {
    return undefined;
  }
}

/** `v` as a record, when well formed and young enough. */
export function validResumeRecord(v: unknown, now = Date.now()): ResumeRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { resume, answer, ufrag, pwd, at, publicAddress, settings } = v as Partial<ResumeRecord>;
  if (typeof resume !== 'string' || !RESUME_TOKEN_PATTERN.test(resume)) return undefined;
  if (typeof answer !== 'string' || typeof ufrag !== 'string' || typeof pwd !== 'string' || typeof at !== 'number') return undefined;
  if (!/^\S{4,256}$/.test(ufrag) || !/^\S{22,256}$/.test(pwd) || now - at > RESUME_RECORD_MAX_AGE_MS || at > now) return undefined;
  const address = typeof publicAddress === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(publicAddress) ? { publicAddress } : {};
  const kept = validSettings(settings);
  return { resume, answer, ufrag, pwd, at, ...address, ...(kept ? { settings: kept } : {}) };
}

let kv: KvStore | undefined;

/** The kept certificate, if one is there and not about to expire. */
export async function keptCertificate(now = Date.now()): Promise<RTCCertificate | undefined> {
  kv ??= createKvStore(self.indexedDB);
  const c = await kv.get<unknown>(RESUME_CERTIFICATE_KEY).catch(() => undefined);
  return typeof RTCCertificate === 'function' && c instanceof RTCCertificate && c.expires > now + RESUME_RECORD_MAX_AGE_MS ? c : undefined;
}

/** The kept certificate, or a new one kept for the next page loads (ECDSA P-256, as browsers make their own). */
export async function resumeCertificate(): Promise<RTCCertificate> {
  const kept = await keptCertificate();
  if (kept) return kept;
  const algorithm: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
  const made = await RTCPeerConnection.generateCertificate(algorithm);
  kv ??= createKvStore(self.indexedDB);
  await kv.put(RESUME_CERTIFICATE_KEY, made);
  return made;
}
