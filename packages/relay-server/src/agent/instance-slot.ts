/**
 * Which saved session a running `wingman http` owns: agents exposing the same
 * port through the same server (two terminals) each keep their own. They take
 * numbered slots per resume key, the lowest free first, each held by a lock
 * file naming the holder's pid and start time (a recycled pid does not count).
 * A lock whose holder is gone or a zombie (state Z: not reaped by a parent
 * that does not wait, yet it answers kill(pid, 0)) is free.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createFileExclusive, ensurePrivateDir } from './state-files';

/**
 * What /proc/<pid>/stat (Linux) says of a process: its state (field 3: R, S, D, … ; ENDED_STATES) and start time (field
 * 22, clock ticks since boot; with the pid, names one process). Undefined off Linux or when the process is gone.
 */
export function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Slots per resume key: more concurrent agents on one port and server than anyone runs; beyond it, no saved session. */
export const MAX_INSTANCE_SLOTS = 16;

const holderSchema = z.object({
  pid: z.number().int().positive(),
  /** /proc/<pid>/stat start time, when known. */
  start: z.string().optional().catch(undefined),
});
type Holder = z.infer<typeof holderSchema>;

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
    return holderSchema.safeParse(JSON.parse(readFileSync(file, 'utf8'))).data;
  } catch {
    return undefined;
  }
}

/** Removes the lock `file` while it still names `holder` (another agent may have taken it over meanwhile); whether it did. */
function removeHeldBy(file: string, holder: Holder): boolean {
  const now = readHolder(file);
  if (now?.pid !== holder.pid || now.start !== holder.start) return false;
  try {
    unlinkSync(file);
  } catch {
    // Gone already: another agent removed it first.
  }
  return true;
}

/** The lowest free slot of `key`; undefined when all are held. Throws when the directory cannot be written or others may write to it. */
export function acquireInstanceSlot(stateDir: string, key: string) {
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
    const holder = taken ? undefined : readHolder(file);
    // A lock is linked into place whole (state-files.ts): one that does not read as a holder is not ours to take.
    if (holder && !alive(holder) && removeHeldBy(file, holder)) taken = createFileExclusive(file, content);
    if (taken) {
      return {
        /** 0 for the first agent of this key, 1 for a second one running at the same time, … */
        slot,
        release: () => void removeHeldBy(file, me),
      };
    }
  }
  return undefined;
}

/** The resume key of a slot: slot 0 keeps the plain key (state files written before slots existed stay valid). */
export function slotKey(key: string, slot: number): string {
  return slot === 0 ? key : `${key} #${slot}`;
}
