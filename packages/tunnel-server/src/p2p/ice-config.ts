/**
 * ICE configuration handed to the agent (in `registered.p2p`) and to
 * viewers. TURN credentials follow the TURN REST API (coturn
 * `use-auth-secret`): they expire by themselves, so a leaked one is useless
 * after TURN_TTL_S.
 * @see https://datatracker.ietf.org/doc/html/draft-uberti-behave-turn-rest-00#section-2.2
 */
import { createHmac } from 'node:crypto';
import type { IceServer, P2PSettings } from '@wingman/protocol';
import type { TunnelServerConfig } from '../config';

export type P2PConfig = TunnelServerConfig['p2p'];

export interface TurnCredentials {
  /** `<expiry unix seconds>:<sessionId>`. */
  username: string;
  /** base64(HMAC-SHA1(secret, username)). */
  credential: string;
}

/** Mints TURN credentials valid for `ttlS` seconds from `nowMs`. */
export function turnCredentials(secret: string, sessionId: string, ttlS: number, nowMs = Date.now()): TurnCredentials {
  const expiry = Math.floor(nowMs / 1000) + ttlS;
  const username = `${expiry}:${sessionId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/** STUN servers as one entry; TURN servers with fresh credentials as another. */
export function buildIceServers(p2p: P2PConfig, sessionId: string, nowMs = Date.now()): IceServer[] {
  const servers: IceServer[] = [];
  if (p2p.stunServers.length > 0) servers.push({ urls: [...p2p.stunServers] });
  if (p2p.turnUrls.length > 0 && p2p.turnSecret !== undefined) {
    servers.push({ urls: [...p2p.turnUrls], ...turnCredentials(p2p.turnSecret, sessionId, p2p.turnTtlS, nowMs) });
  }
  return servers;
}

/** The `registered.p2p` settings: P2P is on only when both the server and the agent allow it. */
export function p2pSettingsFor(p2p: P2PConfig, agentOffersP2P: boolean, sessionId: string): P2PSettings {
  return {
    enabled: p2p.enabled && agentOffersP2P,
    timeoutMs: p2p.timeoutMs,
    iceServers: buildIceServers(p2p, sessionId),
  };
}
