/**
 * The session directory shared by the nodes of a cluster (docs/architecture.md §Scale): in Redis, one key per session
 * naming the node that owns it (holds its agent or its grace period), whether an agent is attached, and the SHA-256
 * of its resume secret, so an agent may resume on any node. Keys expire (DIRECTORY_TTL_MS) unless their owner
 * refreshes them: a node that dies loses its sessions within that time. Every write that assumes ownership checks it
 * in one Lua script, so a node never overwrites a session another node has taken over.
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
 */
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { z } from 'zod';
import { parseJson } from '../http/parse-json';
import type { NameStore } from '../sessions/session-names';

/** Lifetime of a directory entry without a refresh, ms: three refresh periods. */
const DIRECTORY_TTL_MS = 15_000;
export const DIRECTORY_REFRESH_MS = 5_000;
/** Longest wait for one Redis command (ioredis's commandTimeout) before the caller treats the directory as unavailable, ms. */
const DIRECTORY_COMMAND_TIMEOUT_MS = 2_000;
// Key prefixes: a session's entry; a secret every node shares (no TTL); a session that reached its deadline
// (`--expires`: 410 on every node); a stable name → its owner (a token's digest), and owner → name (no expiry).
const DIRECTORY_KEY_PREFIX = 'wingman:session:';
const SHARED_SECRET_KEY_PREFIX = 'wingman:secret:';
const ENDED_KEY_PREFIX = 'wingman:ended:';
const NAME_KEY_PREFIX = 'wingman:name:';
const NAME_OWNER_KEY_PREFIX = 'wingman:name-owner:';

const entrySchema = z.object({
  /** Base URL of the owning node, as other nodes reach it (`WINGMAN_NODE_URL`). */
  node: z.string(),
  /** An agent is attached (false: the session is in its grace period). */
  live: z.boolean(),
  /** SHA-256 (hex) of the session's resume secret. */
  resume: z.string(),
});

export type DirectoryEntry = z.infer<typeof entrySchema>;

export type SessionDirectory = ReturnType<typeof createRedisSessionDirectory>;

/**
 * Key prefix marking a name claimed in the last NAME_CLAIM_HOLD_MS: its agent's session may not be in the directory
 * yet (a node writes the entry after registering), and until then the name counts as in use, so two agents of one
 * token starting at once on two nodes cannot move the name from under each other.
 */
const NAME_HELD_KEY_PREFIX = 'wingman:name-held:';
/** How long a claim holds its name without a directory entry, ms: the directory's own lifetime. */
const NAME_CLAIM_HOLD_MS = DIRECTORY_TTL_MS;

/** SHA-256 hex of a resume secret: what the directory keeps instead of the secret. */
export function resumeDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

// KEYS[1] = session key; ARGV = node, live ('1'|'0'), ttl ms. Returns 1 owned, 0 gone, 2 elsewhere.
const TOUCH = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local e = cjson.decode(v)
if e.node ~= ARGV[1] then return 2 end
e.live = (ARGV[2] == '1')
redis.call('SET', KEYS[1], cjson.encode(e), 'PX', ARGV[3])
return 1`;

// KEYS[1] = session key; ARGV[1] = node. Marks a live entry of this node agent-less, keeping its expiry. Returns 1 when it did.
const ORPHAN = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local e = cjson.decode(v)
if e.node ~= ARGV[1] or e.live ~= true then return 0 end
e.live = false
redis.call('SET', KEYS[1], cjson.encode(e), 'KEEPTTL')
return 1`;

/** Keys asked for per SCAN step while looking for a restarted node's entries. */
const ORPHAN_SCAN_COUNT = 1_000;
/** SCAN steps at most: 10 000 × 1 000 keys, far more sessions than one Redis holds for Wingman; bounds start-up. */
const MAX_ORPHAN_SCAN_STEPS = 10_000;

// The claim rule of sessions/session-names.ts (claimIn) in one step. KEYS[1] = the name's key, KEYS[2] = the owner's
// key; ARGV = owner, name, DIRECTORY_KEY_PREFIX, NAME_KEY_PREFIX, NAME_HELD_KEY_PREFIX, NAME_CLAIM_HOLD_MS. The
// owner's previous name is in use while a directory entry (live or grace) has it or a claim holds it; those keys are
// built here, which a single Redis (not Redis Cluster) allows.
const CLAIM_NAME = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {'taken'} end
if not holder then
  local held = redis.call('GET', KEYS[2])
  if held and held ~= ARGV[2] then
    if redis.call('EXISTS', ARGV[3] .. held) == 1 or redis.call('EXISTS', ARGV[5] .. held) == 1 then return {'limit', held} end
    redis.call('DEL', ARGV[4] .. held)
  end
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('SET', ARGV[5] .. ARGV[2], '1', 'PX', ARGV[6])
return {'claimed'}`;

// KEYS[1] = session key; ARGV[1] = node.
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).node == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

interface SessionDirectoryOptions {
  redisUrl: string;
  node: string;
  /** Connection problems, for the log (ioredis reconnects by itself). */
  onError?: (err: Error) => void;
}

/** Every call that reads Redis rejects when it does not answer within DIRECTORY_COMMAND_TIMEOUT_MS. */
export function createRedisSessionDirectory(options: SessionDirectoryOptions) {
  const redis = new Redis(options.redisUrl, {
    // Commands wait for a (re)connection, but each is flushed with an error after one failed reconnection, and fails
    // after DIRECTORY_COMMAND_TIMEOUT_MS: no unbounded queue while Redis is away.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: DIRECTORY_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', (err: Error) => options.onError?.(err));
  const key = (id: string) => `${DIRECTORY_KEY_PREFIX}${id}`;
  const { node } = options;

  return {
    node,
    /**
     * Records this node as the owner (a new session, or one adopted from another node). `ifAbsent`: only when no node
     * owns it (re-claiming an entry that vanished, e.g. Redis restarted: an agent that moved meanwhile wins).
     */
    async claim(sessionId: string, live: boolean, resumeSecret: string, ifAbsent = false): Promise<void> {
      const value = JSON.stringify({ node, live, resume: resumeDigest(resumeSecret) } satisfies DirectoryEntry);
      if (ifAbsent) await redis.set(key(sessionId), value, 'PX', DIRECTORY_TTL_MS, 'NX');
      else await redis.set(key(sessionId), value, 'PX', DIRECTORY_TTL_MS);
    },
    /** Refreshes an entry this node owns: 'gone' (expired or flushed: claim it again), 'elsewhere' (another node took it over). */
    async touch(sessionId: string, live: boolean): Promise<'owned' | 'gone' | 'elsewhere'> {
      const r = await redis.eval(TOUCH, 1, key(sessionId), node, live ? '1' : '0', String(DIRECTORY_TTL_MS));
      return r === 1 ? 'owned' : r === 2 ? 'elsewhere' : 'gone';
    },
    /** After a restart: marks the entries that still name this node agent-less, so their agents may resume on any node at once. */
    async markOrphans(): Promise<number> {
      let cursor = '0';
      let marked = 0;
      for (let step = 0; step < MAX_ORPHAN_SCAN_STEPS; step++) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${DIRECTORY_KEY_PREFIX}*`, 'COUNT', ORPHAN_SCAN_COUNT);
        for (const k of keys) marked += Number(await redis.eval(ORPHAN, 1, k, node));
        cursor = next;
        if (cursor === '0') break;
      }
      return marked;
    },
    /** Deletes the entry if this node still owns it. */
    async release(sessionId: string): Promise<void> {
      await redis.eval(RELEASE, 1, key(sessionId), node);
    },
    async lookup(sessionId: string): Promise<DirectoryEntry | undefined> {
      const text = await redis.get(key(sessionId));
      return text === null ? undefined : parseJson(entrySchema, text);
    },
    /** Records that the session reached its deadline, for `ttlMs`: every node then answers its URL with 410. */
    async markEnded(sessionId: string, ttlMs: number): Promise<void> {
      await redis.set(`${ENDED_KEY_PREFIX}${sessionId}`, '1', 'PX', ttlMs);
    },
    async isEnded(sessionId: string): Promise<boolean> {
      return (await redis.exists(`${ENDED_KEY_PREFIX}${sessionId}`)) === 1;
    },
    /** The cluster-wide secret named `name`: the one stored, or `candidate` if none was (SET NX: the first node's). */
    async sharedSecret(name: string, candidate: Uint8Array): Promise<Buffer> {
      const k = `${SHARED_SECRET_KEY_PREFIX}${name}`;
      await redis.set(k, Buffer.from(candidate).toString('base64'), 'NX');
      const stored = await redis.get(k);
      const secret = stored === null ? undefined : Buffer.from(stored, 'base64');
      // Deleted between the two commands, or not a secret we wrote: refuse rather than guess.
      if (!secret || secret.length !== candidate.length) throw new Error(`session directory: shared secret ${k} is missing or malformed`);
      return secret;
    },
    /** Stable session names (sessions/session-names.ts), kept without expiry: the same on every node, after any restart. */
    names: {
      async claim(name, owner) {
        const r = (await redis.eval(
          CLAIM_NAME,
          2,
          `${NAME_KEY_PREFIX}${name}`,
          `${NAME_OWNER_KEY_PREFIX}${owner}`,
          owner,
          name,
          DIRECTORY_KEY_PREFIX,
          NAME_KEY_PREFIX,
          NAME_HELD_KEY_PREFIX,
          String(NAME_CLAIM_HOLD_MS),
        )) as [string, string?];
        if (r[0] === 'limit' && typeof r[1] === 'string') return { kind: 'limit', held: r[1] };
        return r[0] === 'taken' ? { kind: 'taken' } : { kind: 'claimed' };
      },
      async claimed(name) {
        return (await redis.exists(`${NAME_KEY_PREFIX}${name}`)) === 1;
      },
    } satisfies NameStore,
    /** Calls `listener` each time the connection to Redis is (re)established. */
    onReconnect(listener: () => void): void {
      redis.on('ready', listener);
    },
    async ready(): Promise<void> {
      await redis.ping();
    },
    async close(): Promise<void> {
      redis.disconnect();
    },
  };
}
