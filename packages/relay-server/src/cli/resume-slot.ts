/**
 * The saved session of one running agent of a server and target: a numbered
 * slot held by a lock file (agent/instance-slot.ts) and the resume store kept
 * under it. Shared by `wingman http` and each tunnel of `wingman start`.
 */
import { join } from 'node:path';
import { createFileResumeStore, createMemoryResumeStore, defaultStateDir, resumeKey, type ResumeStore } from '../agent';
import { acquireInstanceSlot, MAX_INSTANCE_SLOTS, slotKey, type InstanceSlot } from '../agent/instance-slot';
import type { HttpConfig } from './options';

interface ResumeSlot {
  store: ResumeStore;
  /** Frees the slot for the next agent of this server and target. */
  release(): void;
}

/** Takes a slot (or, when none can be had, keeps the session in memory and says why through `warn`). */
export function openResumeSlot(config: Pick<HttpConfig, 'server' | 'target' | 'newSession'>, env: NodeJS.ProcessEnv, warn: (why: string) => void): ResumeSlot {
  const stateDir = defaultStateDir(env);
  const key = resumeKey(config.server, config.target);
  let slot: InstanceSlot | undefined;
  try {
    slot = acquireInstanceSlot(stateDir, key);
    if (!slot) warn(`${MAX_INSTANCE_SLOTS} agents already run for this server and port`);
  } catch (err) {
    warn((err as Error).message);
  }
  const store = slot
    ? createFileResumeStore({ file: join(stateDir, 'sessions.json'), key: slotKey(key, slot.slot), onError: (e) => warn(e.message) })
    : createMemoryResumeStore();
  if (config.newSession) store.clear();
  return { store, release: () => slot?.release() };
}
