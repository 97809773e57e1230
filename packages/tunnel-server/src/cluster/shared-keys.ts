/**
 * Keys every node of a cluster must share (access cookie, hop header, session ids), kept in step through Redis under
 * `wingman:secret:<name>`: a node offers its key (SET NX) and adopts the stored one at start, every SHARED_KEY_SYNC_MS
 * and on each reconnect, so after a Redis restart the nodes write theirs back and agree on the first. A key ring keeps
 * the key it replaced (keys/key-ring.ts), so what was signed just before a switch still verifies.
 */
import type { Logger } from '../logger';
import type { KeyRing } from '../keys/key-ring';
import { DIRECTORY_REFRESH_MS, type SessionDirectory } from './session-directory';

/**
 * How often a node offers its keys again, ms: the refresh period of the directory, so that after a Redis restart keys
 * are back as soon as sessions are (a reconnect usually brings them back sooner).
 */
const SHARED_KEY_SYNC_MS = DIRECTORY_REFRESH_MS;

export function shareKeys(directory: SessionDirectory, rings: Record<string, KeyRing>, logger: Logger) {
  let failing = false;
  let stopped = false;
  /** Offers every key and adopts the stored ones; rejects when Redis does not answer. */
  const sync = async (): Promise<void> => {
    for (const [name, ring] of Object.entries(rings)) {
      const stored = await directory.sharedSecret(name, ring.current());
      if (ring.adopt(stored)) logger.info({ key: name }, "shared key: adopted the cluster's (the previous one stays valid for verification)");
    }
  };
  const background = () => {
    if (stopped) return;
    sync().then(
      () => {
        if (failing) logger.info('shared keys: in step with Redis again');
        failing = false;
      },
      (err: unknown) => {
        // Once per outage, not every period.
        if (!failing) logger.warn({ err }, 'shared keys: Redis does not answer; this node keeps signing with the keys it holds');
        failing = true;
      },
    );
  };
  const timer = setInterval(background, SHARED_KEY_SYNC_MS);
  timer.unref();
  directory.onReconnect(background);
  return {
    sync,
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
