/**
 * Who holds which stable session name (`wingman http --name shop`): a name belongs to the agent token that first
 * claimed it, and a token holds one at a time; claiming another moves it, unless the current one is in use (then the
 * claim is refused, so a running link never loses its name). Kept in a file of the state directory (NAMES_FILE,
 * written whole and renamed into place) or, in a cluster, in Redis; only a digest of each token is stored, and a node
 * forgets the names of tokens no longer configured when it starts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSessionName } from '@wingman/protocol';
import type { Logger } from '../logger';

export const NAMES_FILE = 'session-names.json';

/** What a claim came to. `limit`: the token holds `held`, which a session uses now. */
export type NameClaim = { kind: 'claimed' } | { kind: 'taken' } | { kind: 'limit'; held: string };

export interface NameStore {
  /** Binds `name` to `owner` (ownerOf(token)), moving the owner's previous name if that one is not in use. */
  claim(name: string, owner: string): Promise<NameClaim>;
  /** Whether some token holds `name` (for the TLS permission check: its certificate is worth having before its agent connects). */
  claimed(name: string): Promise<boolean>;
}

/** The digest a token is stored as: it identifies the owner, and the file never holds a token. */
export function ownerOf(token: string): string {
  return createHash('sha256').update('wingman-name-owner\0').update(token, 'utf8').digest('hex');
}

/** The claim rule on one map of name → owner; `inUse` says whether a session has a name now. */
export function claimIn(names: Map<string, string>, name: string, owner: string, inUse: (name: string) => boolean): NameClaim {
  const holder = names.get(name);
  if (holder !== undefined && holder !== owner) return { kind: 'taken' };
  if (holder === owner) return { kind: 'claimed' };
  for (const [held, o] of names) {
    if (o !== owner) continue;
    if (inUse(held)) return { kind: 'limit', held };
    names.delete(held);
  }
  names.set(name, owner);
  return { kind: 'claimed' };
}

type LoadedNames = { store: NameStore; file: string; forgotten: number } | { store: NameStore; error: Error };

/**
 * The names kept in `dir` (NAMES_FILE), for one node. `owners`: the digests of the configured tokens (the names of
 * others are forgotten). A file that cannot be read or written gives a store in memory, with the error to report:
 * names then last as long as this process.
 */
export function loadNameStore(dir: string, owners: ReadonlySet<string>, inUse: (name: string) => boolean): LoadedNames {
  const file = join(dir, NAMES_FILE);
  const names = new Map<string, string>();
  let writable = true;
  const save = () => {
    if (!writable) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ names: Object.fromEntries(names) }, null, 1) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  };
  const store: NameStore = {
    async claim(name, owner) {
      const before = new Map(names);
      const result = claimIn(names, name, owner, inUse);
      if (result.kind === 'claimed' && before.get(name) !== owner) {
        try {
          save();
        } catch (err) {
          // Not kept: the claim is refused rather than given a name that a restart would hand to someone else.
          names.clear();
          for (const [k, v] of before) names.set(k, v);
          throw err;
        }
      }
      return result;
    },
    async claimed(name) {
      return names.has(name);
    },
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let forgotten = 0;
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { names?: unknown };
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.names !== 'object' || parsed.names === null)
        throw new Error(`${file} does not hold {"names": {...}}; move it away to start with no names`);
      for (const [name, owner] of Object.entries(parsed.names as Record<string, unknown>)) {
        if (typeof owner === 'string' && owners.has(owner) && isSessionName(name)) names.set(name, owner);
        else forgotten++;
      }
    }
    if (forgotten > 0) save();
    return { store, file, forgotten };
  } catch (err) {
    writable = false;
    names.clear();
    return { store, error: err as Error };
  }
}

/** loadNameStore(), its problems logged: names in memory only when the file cannot be kept. */
export function loadNameStoreOrWarn(stateDir: string, tokens: readonly string[], inUse: (name: string) => boolean, logger: Logger): NameStore {
  const loaded = loadNameStore(stateDir, new Set(tokens.map(ownerOf)), inUse);
  if ('error' in loaded)
    logger.warn({ err: loaded.error, stateDir }, 'cannot keep session names in the state directory: names are free again when this server restarts');
  else if (loaded.forgotten > 0) logger.info({ forgotten: loaded.forgotten }, 'session names of tokens no longer configured (WINGMAN_TOKENS) are free again');
  return loaded.store;
}
