/**
 * ICE configuration for the agent (`registered.p2p`, again in `ice-servers` as its credentials age) and each viewer
 * (its signaling `hello`). TURN credentials follow the TURN REST API (coturn `use-auth-secret`), minted per holder
 * (`<expiry>:<sessionId>.<viewerId>`, the agent's `.agent`) so the TURN server's logs and quotas tell them apart; they
 * are checked when an allocation is made, so they need only last through ICE gathering (TURN_TTL_S).
 * @see https://datatracker.ietf.org/doc/html/draft-uberti-behave-turn-rest-00#section-2.2
 */
import { createHmac } from 'node:crypto';
import type { IceServer, P2PSettings } from '@wingman/protocol';
import type { TunnelServerConfig } from '../config';

type P2PConfig = TunnelServerConfig['p2p'];

/** The TURN user of a session's agent (its viewers are `<sessionId>.<viewerId>`). */
export const AGENT_TURN_USER = 'agent';

/** The user part of a TURN username: the session and who in it holds the credentials. */
export function turnUser(sessionId: string, holder: string): string {
  return `${sessionId}.${holder}`;
}

/**
 * STUN servers as one entry; TURN servers with fresh credentials for `user` (turnUser()) as another: the username
 * `<expiry unix seconds>:<user>`, valid for TURN_TTL_S from `nowMs`, and the credential base64(HMAC-SHA1(secret, username)).
 */
export function buildIceServers(p2p: P2PConfig, user: string, nowMs = Date.now()): IceServer[] {
  const servers: IceServer[] = [];
  if (p2p.stunServers.length > 0) servers.push({ urls: [...p2p.stunServers] });
  if (p2p.turnUrls.length > 0 && p2p.turnSecret !== undefined) {
    const username = `${Math.floor(nowMs / 1000) + p2p.turnTtlS}:${user}`;
    servers.push({ urls: [...p2p.turnUrls], username, credential: createHmac('sha1', p2p.turnSecret).update(username).digest('base64') });
  }
  return servers;
}

/** P2P settings for `user` (turnUser()): P2P is on only when both the server and the agent allow it. */
export function p2pSettingsFor(p2p: P2PConfig, agentOffersP2P: boolean, user: string): P2PSettings {
  return {
    enabled: p2p.enabled && agentOffersP2P,
    timeoutMs: p2p.timeoutMs,
    iceServers: buildIceServers(p2p, user),
    videoSection: p2p.videoSection,
  };
}
