/**
 * The server's secret keys: the session key binds ids to resume secrets (session-key.ts; on disk, or derived from the
 * cluster secret) so agents claim their URL back after a restart; the access key signs access and viewer cookies
 * (derived from the session key on one node, kept in step through Redis in a cluster: cluster/shared-keys.ts); the hop
 * key signs the viewer address a forwarding node vouches for. With WINGMAN_CLUSTER_SECRET every key derives from it.
 */
import { randomBytes } from 'node:crypto';
import type { TunnelServerConfig } from '../config';
import { createKeyRing } from '../keys/key-ring';
import type { Logger } from '../logger';
import { deriveKey, loadSessionKey } from './session-key';

/** HMAC-SHA256 key of the viewer access cookie: 256 bits, the hash's own size (RFC 2104 §3). */
const ACCESS_KEY_BYTES = 32;

export function createServerKeys(config: TunnelServerConfig, logger: Logger) {
  const configured = config.clusterSecret === undefined ? undefined : Buffer.from(config.clusterSecret, 'utf8');
  const sessionKey = configured ? deriveKey(configured, 'session-id') : loadSessionKey(config.stateDir, logger);
  return {
    session: createKeyRing(sessionKey),
    access: createKeyRing(deriveKey(configured ?? sessionKey, 'access-cookie')),
    hop: createKeyRing(configured ? deriveKey(configured, 'cluster-hop') : randomBytes(ACCESS_KEY_BYTES)),
    /** True when every key derives from the configured cluster secret (no key needs sharing). */
    derived: configured !== undefined,
  };
}
