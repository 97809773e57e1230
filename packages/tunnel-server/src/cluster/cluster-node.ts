/**
 * This node's part in a cluster: keeps the shared session directory in step with the local registry (claim on create
 * or adopt, live flag on attach and detach, release on expiry, refresh every DIRECTORY_REFRESH_MS), and answers the
 * two questions routing and registration ask: who owns a session the local registry does not hold, and may an agent
 * resume here a session another node held. Redis trouble never fails a local session: writes are retried by the next
 * refresh, and a lookup that fails is reported as such.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger';
import { ENDED_SESSION_MEMORY_MS, type Session, type SessionRegistry } from '../sessions/registry';
import { DIRECTORY_REFRESH_MS, resumeDigest, type SessionDirectory } from './session-directory';

/**
 * How long a node remembers that another node owns a session, ms, sparing a Redis round trip per forwarded request. A
 * moved session is found at its new node within it; meanwhile the old node answers with a page that retries.
 */
const OWNER_CACHE_TTL_MS = 1_000;
/** Sessions whose owner a node remembers at once; the least recently used entry goes first. */
const OWNER_CACHE_MAX_ENTRIES = 10_000;

/** `ended`: held nowhere, and a node recorded that it reached its deadline (410 on every node). */
export type Owner = { kind: 'node'; node: string } | { kind: 'orphaned' } | { kind: 'ended' } | undefined;

export type RemoteResume = { kind: 'adopt' } | { kind: 'busy'; node: string } | { kind: 'unknown' };

export type ClusterNode = ReturnType<typeof createClusterNode>;

interface ClusterNodeOptions {
  directory: SessionDirectory;
  registry: SessionRegistry;
  logger: Logger;
  /** Another node took over a session this node still holds: drop it here. */
  onTakenOver(session: Session): void;
}

export function createClusterNode(options: ClusterNodeOptions) {
  const { directory, registry, logger } = options;
  const warn = (err: unknown, what: string, sessionId: string) =>
    logger.warn({ err, sessionId }, `session directory: ${what} failed (retried by the next refresh)`);

  const refresh = async (session: Session) => {
    const state = await directory.touch(session.id, session.agent !== undefined);
    // Gone (expired, or Redis restarted empty): claimed again unless an agent that moved meanwhile claimed it elsewhere (the next refresh then sees it).
    if (state === 'gone') await directory.claim(session.id, session.agent !== undefined, session.resumeSecret, true);
    else if (state === 'elsewhere' && registry.get(session.id) === session) {
      logger.info({ sessionId: session.id }, 'session taken over by another node');
      options.onTakenOver(session);
    }
  };
  /** sessionId → the other node that owns it, for OWNER_CACHE_TTL_MS. Only positive answers: a session held nowhere is looked up each time. */
  const owners = new LRUCache<string, string>({ max: OWNER_CACHE_MAX_ENTRIES, ttl: OWNER_CACHE_TTL_MS });
  /** Lookups in flight: concurrent requests for one session share one Redis GET. */
  const pending = new Map<string, Promise<Owner>>();

  const timer = setInterval(() => {
    for (const s of registry.all()) refresh(s).catch((err: unknown) => warn(err, 'refresh', s.id));
  }, DIRECTORY_REFRESH_MS);
  timer.unref();

  return {
    node: directory.node,
    // The registry's events: a session created, adopted or re-attached here; its agent dropped; it ended here.
    attached(session: Session): void {
      owners.delete(session.id);
      directory.claim(session.id, true, session.resumeSecret).catch((err: unknown) => warn(err, 'claim', session.id));
    },
    detached(session: Session): void {
      directory.touch(session.id, false).catch((err: unknown) => warn(err, 'touch', session.id));
    },
    expired(session: Session): void {
      directory.release(session.id).catch((err: unknown) => warn(err, 'release', session.id));
      if (registry.ended(session.id)) directory.markEnded(session.id, ENDED_SESSION_MEMORY_MS).catch((err: unknown) => warn(err, 'mark ended', session.id));
    },
    /**
     * Where a session the local registry does not serve lives: another node (its base URL), `orphaned` (the directory
     * names this node, left by its previous run before a restart: the agent is expected back), or undefined (nowhere).
     * Rejects when the directory is unavailable.
     */
    async ownerElsewhere(sessionId: string): Promise<Owner> {
      const known = owners.get(sessionId);
      if (known !== undefined) return { kind: 'node', node: known };
      const inFlight = pending.get(sessionId);
      if (inFlight) return inFlight;
      const lookup = directory.lookup(sessionId).then((entry): Owner | Promise<Owner> => {
        if (!entry) return directory.isEnded(sessionId).then((ended): Owner => (ended ? { kind: 'ended' } : undefined));
        if (entry.node === directory.node) return registry.get(sessionId) ? undefined : { kind: 'orphaned' };
        owners.set(sessionId, entry.node);
        return { kind: 'node', node: entry.node };
      });
      pending.set(sessionId, lookup);
      // Settled either way (a failed lookup is not remembered): the next request asks again.
      const forget = () => void pending.delete(sessionId);
      lookup.then(forget, forget);
      return lookup;
    },
    /**
     * Whether an agent presenting this resume secret may take over a session the local registry does not hold: from the
     * node that holds it, from this node's previous run, or, held nowhere, when `bound` (its id is bound to the
     * secret).
     */
    async remoteResume(sessionId: string, resumeSecret: string, bound: boolean): Promise<RemoteResume> {
      const entry = await directory.lookup(sessionId);
      // Held nowhere: an id bound to its secret is claimed back (session-key.ts).
      if (!entry) return bound ? { kind: 'adopt' } : { kind: 'unknown' };
      if (entry.resume !== resumeDigest(resumeSecret)) return { kind: 'unknown' };
      // Named as this node's, yet the registry does not hold it (only then is the directory asked): left by this node's previous run, before a restart.
      if (entry.node === directory.node) return { kind: 'adopt' };
      return entry.live ? { kind: 'busy', node: entry.node } : { kind: 'adopt' };
    },
    /**
     * Whether the agent of a stable name (its token holds the name, checked by the caller) may take the session over
     * here: `busy` while another node's agent serves it; `adopt` with `existed` when some node keeps it in its grace
     * period (or this node's previous run held it), without when it is held nowhere.
     */
    async namedResume(name: string): Promise<{ kind: 'adopt'; existed: boolean } | { kind: 'busy'; node: string }> {
      const entry = await directory.lookup(name);
      if (!entry) return { kind: 'adopt', existed: false };
      return entry.live && entry.node !== directory.node ? { kind: 'busy', node: entry.node } : { kind: 'adopt', existed: true };
    },
    async close(): Promise<void> {
      clearInterval(timer);
      owners.clear();
      // Not released: marked agent-less, the entries live on for DIRECTORY_TTL_MS, so an agent that reconnects to
      // another node resumes its session (same URL) there.
      await Promise.allSettled(registry.all().map((s) => directory.touch(s.id, false)));
      await directory.close();
    },
  };
}
