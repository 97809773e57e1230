/**
 * Where the agent keeps the session it may resume: memory, or a state file so
 * a rerun gets the same URL back within the server's grace period (0600 in a
 * 0700 directory: it holds resume secrets).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LINK_KEY_PATTERN, SESSION_ID_PATTERN } from '@wingman/protocol';
import { z } from 'zod';
import { keyedEntry, readKeyedEntries, writeKeyedEntries } from './state-files';

const entrySchema = keyedEntry({
  sessionId: z.string().regex(SESSION_ID_PATTERN),
  resumeSecret: z.string().min(1).max(128),
  /** docs/PROTOCOL.md §Link access: a resumed session keeps its link whole. */
  linkKey: z.string().regex(LINK_KEY_PATTERN).optional(),
  savedAt: z.number(),
});

type Entry = z.infer<typeof entrySchema>;
export type ResumeState = Pick<Entry, 'sessionId' | 'resumeSecret' | 'linkKey'>;

export interface ResumeStore {
  load(): ResumeState | undefined;
  save(state: ResumeState): void;
  clear(): void;
}

/** Most recent first; older ones are long expired on any server. */
const MAX_ENTRIES = 50;

export function createMemoryResumeStore(): ResumeStore {
  let state: ResumeState | undefined;
  return {
    load: () => state,
    save: (s) => void (state = s),
    clear: () => void (state = undefined),
  };
}

/** The state directory: $WINGMAN_STATE_DIR, else $XDG_STATE_HOME/wingman, else ~/.local/state/wingman. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WINGMAN_STATE_DIR) return env.WINGMAN_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'wingman');
  return join(homedir(), '.local', 'state', 'wingman');
}

/** One key per (server, target); loopback spellings are the same server. */
export function resumeKey(server: string, target: { host: string; port: number }): string {
  const loopback = (h: string) => (/^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i.test(h) ? 'localhost' : h.toLowerCase());
  const u = new URL(server);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${loopback(u.hostname)}:${u.port || (u.protocol === 'https:' ? 443 : 80)}${path} ${loopback(target.host)}:${target.port}`;
}

interface FileResumeStoreOptions {
  /** The state file (`<state dir>/sessions.json`). */
  file: string;
  /** Entry key (resumeKey()). */
  key: string;
  /** Told once when the file cannot be written (the agent keeps working, without cross-restart resume). */
  onError?: (error: Error) => void;
}

export function createFileResumeStore({ file, ...options }: FileResumeStoreOptions): ResumeStore {
  let warned = false;
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!warned) options.onError?.(err as Error);
      warned = true;
    }
  };
  // Missing or unreadable: no session to resume.
  const others = () => readKeyedEntries(file, entrySchema).filter((x) => x.key !== options.key);
  return {
    load() {
      const e = readKeyedEntries(file, entrySchema).find((x) => x.key === options.key);
      return e ? { sessionId: e.sessionId, resumeSecret: e.resumeSecret, ...(e.linkKey !== undefined ? { linkKey: e.linkKey } : {}) } : undefined;
    },
    save(state) {
      guard(() => writeKeyedEntries(file, [{ key: options.key, ...state, savedAt: Date.now() }, ...others()], MAX_ENTRIES));
    },
    clear() {
      guard(() => writeKeyedEntries(file, others(), MAX_ENTRIES));
    },
  };
}
