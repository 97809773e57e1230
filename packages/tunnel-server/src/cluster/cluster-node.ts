/**
 * This node's part in a cluster: keeps the shared session directory in step
 * with the local registry (claim on create or adopt, live flag on attach and
 * detach, release on expiry, refresh every DIRECTORY_REFRESH_MS), and answers
 * the two questions routing and registration ask: who owns a session the
 * local registry does not hold, and may an agent resume here a session
 * another node held. Redis trouble never fails a local session: writes are
 * retried by the next refresh, and a lookup that fails is reported as such.
 */
import type { Logger } from '../logger';
import type { Session, SessionRegistry } from '../sessions/registry';
import { DIRECTORY_REFRESH_MS, resumeDigest, type SessionDirectory } from './session-directory';

export type RemoteResume = { kind: 'adopt' } | { kind: 'busy'; node: string } | { kind: 'unknown' };

export interface ClusterNode {
  readonly node: string;
  /** The registry created, adopted or re-attached a session here. */
  attached(session: Session): void;
  /** The session's agent dropped (grace period). */
  detached(session: Session): void;
  /** The session ended here (grace over, or taken over elsewhere). */
  expired(session: Session): void;
  /** Base URL of the node that owns a session the local registry does not serve, or undefined. Rejects when the directory is unavailable. */
  ownerElsewhere(sessionId: string): Promise<string | undefined>;
  /** Whether an agent presenting this resume secret may take the session over from the node that holds it. */
  remoteResume(sessionId: string, resumeSecret: string): Promise<RemoteResume>;
  close(): Promise<void>;
}

export interface ClusterNodeOptions {
  directory: SessionDirectory;
  registry: SessionRegistry;
  logger: Logger;
  /** Another node took over a session this node still holds: drop it here. */
  onTakenOver(session: Session): void;
}

export function createClusterNode(options: ClusterNodeOptions): ClusterNode {
  const { directory, registry, logger } = options;
  const warn = (err: unknown, what: string, sessionId: string) => logger.warn({ err, sessionId }, `session directory: ${what} failed (retried by the next refresh)`);

  const refresh = async (session: Session) => {
    const state = await directory.touch(session.id, session.agent !== undefined);
    if (state === 'gone') await directory.claim(session.id, session.agent !== undefined, session.resumeSecret);
    else if (state === 'elsewhere' && registry.get(session.id) === session) {
      logger.info({ sessionId: session.id }, 'session taken over by another node');
      options.onTakenOver(session);
    }
  };
  const timer = setInterval(() => {
    for (const s of registry.all()) refresh(s).catch((err: unknown) => warn(err, 'refresh', s.id));
  }, DIRECTORY_REFRESH_MS);
  timer.unref();

  return {
    node: directory.node,
    attached(session) {
      directory.claim(session.id, true, session.resumeSecret).catch((err: unknown) => warn(err, 'claim', session.id));
    },
    detached(session) {
      directory.touch(session.id, false).catch((err: unknown) => warn(err, 'touch', session.id));
    },
    expired(session) {
      directory.release(session.id).catch((err: unknown) => warn(err, 'release', session.id));
    },
    async ownerElsewhere(sessionId) {
      const entry = await directory.lookup(sessionId);
      return entry && entry.node !== directory.node ? entry.node : undefined;
    },
    async remoteResume(sessionId, resumeSecret) {
      const entry = await directory.lookup(sessionId);
      if (!entry || entry.node === directory.node || entry.resume !== resumeDigest(resumeSecret)) return { kind: 'unknown' };
      return entry.live ? { kind: 'busy', node: entry.node } : { kind: 'adopt' };
    },
    async close() {
      clearInterval(timer);
      // Not released: marked agent-less, the entries live on for DIRECTORY_TTL_MS,
      // so an agent that reconnects to another node resumes its session (same URL) there.
      await Promise.allSettled(registry.all().map((s) => directory.touch(s.id, false)));
      await directory.close();
    },
  };
}
