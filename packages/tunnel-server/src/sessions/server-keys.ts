/**
 * The server's secret keys. Session ids are bound to resume secrets under the session key (session-key.ts), kept on
 * disk in the state directory or derived from the configured cluster secret, so an agent claims its URL back after a
 * restart. Access cookies of password-protected sessions (and viewer cookies) are HMACs under the access key: on one
 * node derived from the session key, so cookies outlive a restart as the URLs do; in a cluster kept in step through
 * Redis (cluster/shared-keys.ts), so a cookie earned on one node is valid on every node a session may move to. The
 * hop key signs the viewer address a node vouches for when it forwards to another (viewers/viewer-address.ts). With
 * WINGMAN_CLUSTER_SECRET every key derives from it: nothing to agree on.
 */
import { randomBytes } from 'node:crypto';
import type { TunnelServerConfig } from '../config';
import { createKeyRing, type KeyRing } from '../keys/key-ring';
import type { Logger } from '../logger';
import { deriveKey, loadSessionKey } from './session-key';

/** HMAC-SHA256 key of the viewer access cookie: 256 bits, the hash's own size (RFC 2104 §3). */
const ACCESS_KEY_BYTES = 32;

interface ServerKeys {
  /** Session ids' key (session-key.ts). */
  session: KeyRing;
  /** Access and viewer cookies' key. */
  access: KeyRing;
  /** The cluster hop's key. */
  hop: KeyRing;
  /** True when every key derives from the configured cluster secret (no key needs sharing). */
  derived: boolean;
}

function loadSessionKeyOrWarn(stateDir: string, logger: Logger): Buffer {
  const loaded = loadSessionKey(stateDir);
  if ('error' in loaded)
    logger.warn({ err: loaded.error, stateDir }, 'cannot keep the session key in the state directory: agents get new URLs when this server restarts');
  return loaded.key;
}

export function createServerKeys(config: TunnelServerConfig, logger: Logger): ServerKeys {
  const configured = config.clusterSecret === undefined ? undefined : Buffer.from(config.clusterSecret, 'utf8');
  const sessionKey = configured ? deriveKey(configured, 'session-id') : loadSessionKeyOrWarn(config.stateDir, logger);
  return {
    session: createKeyRing(sessionKey),
    access: createKeyRing(deriveKey(configured ?? sessionKey, 'access-cookie')),
    hop: createKeyRing(configured ? deriveKey(configured, 'cluster-hop') : randomBytes(ACCESS_KEY_BYTES)),
    derived: configured !== undefined,
  };
}
