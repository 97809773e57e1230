/**
 * Joining a cluster (REDIS_URL): the session directory, ready before the first viewer arrives (a Redis that is down
 * only degrades routing, docs/operations.md); the keys every node must share, unless the cluster secret derives them
 * all; the sessions this node's previous run held, marked agent-less so their agents may resume on any node; and this
 * node's part (cluster-node.ts).
 */
import type { TunnelServerConfig } from '../config';
import type { KeyRing } from '../keys/key-ring';
import type { Logger } from '../logger';
import type { Session, SessionRegistry } from '../sessions/registry';
import { createClusterNode } from './cluster-node';
import { createRedisSessionDirectory } from './session-directory';
import { shareKeys } from './shared-keys';

interface JoinClusterOptions {
  config: TunnelServerConfig & { redisUrl: string };
  /** The port this node listens on: part of its default node URL. */
  port: number;
  logger: Logger;
  registry: SessionRegistry;
  /** The key rings to keep in step through Redis; undefined when the cluster secret derives every key. */
  sharedRings: Record<string, KeyRing> | undefined;
  /** A session another node took over: this node lets it go. */
  onTakenOver: (session: Session) => void;
}

export type ClusterMembership = Awaited<ReturnType<typeof joinCluster>>;

export async function joinCluster(options: JoinClusterOptions) {
  const { config, port, logger, registry } = options;
  const nodeUrl = config.nodeUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const directory = createRedisSessionDirectory({
    redisUrl: config.redisUrl,
    node: nodeUrl,
    onError: (err) => logger.warn({ err }, 'session directory (Redis) error'),
  });
  await directory
    .ready()
    .catch((err: unknown) =>
      logger.warn({ err, redisUrl: config.redisUrl }, 'session directory: Redis does not answer yet; serving local sessions only until it does'),
    );
  const sharedKeys = options.sharedRings && shareKeys(directory, options.sharedRings, logger);
  await sharedKeys?.sync().catch((err: unknown) => {
    logger.warn(
      { err },
      'session directory: no shared keys yet; this node signs with its own until Redis answers (viewers of a password-protected session that moves here may enter the password again)',
    );
  });
  await directory.markOrphans().then(
    (n) => n > 0 && logger.info({ sessions: n }, "session directory: sessions of this node's previous run marked agent-less"),
    (err: unknown) => logger.warn({ err }, "session directory: could not look for sessions of this node's previous run"),
  );
  const node = createClusterNode({ directory, registry, logger, onTakenOver: options.onTakenOver });
  logger.info({ node: nodeUrl }, 'cluster node: sessions shared through Redis');
  return { directory, node, sharedKeys };
}
