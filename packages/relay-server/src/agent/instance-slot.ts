/**
 * Which saved session a running `wingman http` owns. Several agents may
 * expose the same port through the same server at once (two terminals); each
 * must keep its own session across restarts, never resume another's. Agents
 * take numbered slots per resume key: slot 0 first, the next free one when it
 * is held. A slot is held by a lock file naming the holder's pid (and, on
 * Linux, its start time, so a recycled pid does not count); a lock whose
 * holder is gone (Ctrl+C, crash, kill -9) is free, and so is one whose
 * holder is a zombie (state Z: killed, but its parent, a shell or a test
 * runner that does not wait, has not reaped it; its pid still answers
 * kill(pid, 0), and it cost the URL). So a restarted agent gets the lowest
 * free slot, and with it the session it had.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { procStat } from './proc-stat';
import { createFileExclusive, ensurePrivateDir } from './state-files';

/** Slots per resume key: more concurrent agents on one port and server than anyone runs; beyond it, no saved session. */
export const MAX_INSTANCE_SLOTS = 16;

export interface InstanceSlot {
  /** 0 for the first agent of this key, 1 for a second one running at the same time, … */
  readonly slot: number;
  /** Frees the slot (removes the lock if it is still ours). */
  release(): void;
}

interface Holder {
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot), when known. */
  start?: string;
}

/** Z: a zombie (exited, not reaped); X: dead. Neither holds anything. */
const ENDED_STATES = new Set(['Z', 'X']);

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the process exists (another user's).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(holder.pid);
  if (stat === undefined) return true;
  return !ENDED_STATES.has(stat.state) && (holder.start === undefined || stat.start === holder.start);
}

function readHolder(file: string): Holder | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0
      ? { pid: v.pid, ...(typeof v.start === 'string' ? { start: v.start } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lowest free slot of `key` in `<stateDir>/locks`; undefined when
 * all MAX_INSTANCE_SLOTS are held. Throws when the directory cannot be
 * written (a failed write leaves no lock behind) or others may write to it.
 */
export function acquireInstanceSlot(stateDir: string, key: string): InstanceSlot | undefined {
  const dir = join(stateDir, 'locks');
  ensurePrivateDir(stateDir);
  ensurePrivateDir(dir);
  const base = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const start = procStat(process.pid)?.start;
  const me: Holder = { pid: process.pid, ...(start !== undefined ? { start } : {}) };
  const content = JSON.stringify(me);
  for (let slot = 0; slot < MAX_INSTANCE_SLOTS; slot++) {
    const file = join(dir, `${base}.${slot}.lock`);
    let taken = createFileExclusive(file, content);
    if (!taken) {
      const holder = readHolder(file);
      // A lock is linked into place whole (state-files.ts): one that does not read as a holder is not ours to take.
      if (holder && !alive(holder)) {
        // Still the same stale lock (not one another agent just re-took)?
        const again = readHolder(file);
        if (again && again.pid === holder.pid && again.start === holder.start) {
          try {
            unlinkSync(file);
          } catch {
            // Another agent removed it first.
          }
          taken = createFileExclusive(file, content);
        }
      }
    }
    if (taken) {
      return {
        slot,
        release() {
          const holder = readHolder(file);
          if (holder?.pid === me.pid && holder.start === me.start) {
            try {
              unlinkSync(file);
            } catch {
              // Gone already.
            }
          }
        },
      };
    }
  }
  return undefined;
}

/** The resume key of a slot: slot 0 keeps the plain key (state files written before slots existed stay valid). */
export function slotKey(key: string, slot: number): string {
  return slot === 0 ? key : `${key} #${slot}`;
}
