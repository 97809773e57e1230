/**
 * Writes to the agent's state directory that complete or leave what was
 * there: temporary files with unpredictable names created exclusively
 * (O_EXCL refuses a symlink), linked into place whole; a directory others can
 * write to is refused (they could swap files between our checks).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** Bits of a directory's mode that let users other than its owner create or replace files in it. */
const OTHERS_WRITE = 0o022;

/** Creates `dir` (0700) if needed; throws unless it is a directory owned by this user that no one else may write to. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`the state directory ${dir} is not a directory (a symlink?): not keeping sessions there`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`the state directory ${dir} belongs to another user (uid ${st.uid}): not keeping sessions there`);
  if ((st.mode & OTHERS_WRITE) !== 0) {
    throw new Error(`the state directory ${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): not keeping sessions there; chmod 700 it`);
  }
}

/** Writes `content` to a new exclusively created temporary file next to `file` (0600); removes it and throws when the write fails. */
function writeTemp(file: string, content: string): string {
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    // Every byte (writeFileSync writes again after a short write).
    writeFileSync(fd, content, 'utf8');
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Creates `file` holding all of `content` if it does not exist (false when it does); it never exists half-written. */
export function createFileExclusive(file: string, content: string): boolean {
  const tmp = writeTemp(file, content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** An entry of a state file: its `key` and the fields of `shape`, other fields kept as they are. */
export function keyedEntry<S extends z.ZodRawShape>(shape: S) {
  return z.object({ key: z.string().max(2047), ...shape }).passthrough();
}

/**
 * Replaces the state file `file` (its directory made private) with `entries`, the first `max` of them. Atomic: a
 * concurrent reader sees the old or the new file, never half; a failed write (full disk) leaves the old one.
 */
export function writeKeyedEntries(file: string, entries: unknown[], max: number): void {
  ensurePrivateDir(dirname(file));
  const tmp = writeTemp(file, JSON.stringify(entries.slice(0, max), null, 1));
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** A state file's entries that `schema` accepts; `[]` when the file is missing, unreadable or not an array. */
export function readKeyedEntries<T>(file: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): T[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? parsed.flatMap((e) => schema.safeParse(e).data ?? []) : [];
}
