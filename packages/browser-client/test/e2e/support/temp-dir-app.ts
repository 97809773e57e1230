/**
 * A developer's app made of a few files in a fresh temporary directory and
 * run as a process there (Vite, Next.js): the directory goes when the app
 * stops, or when it fails to start.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proc } from '../../../../../test/helpers/processes';

export interface TempDirApp<R> {
  dir: string;
  proc: Proc;
  /** What `ready` resolved with (e.g. the port the app printed). */
  ready: R;
  /** Stops the process, then deletes the directory. */
  close(): Promise<void>;
}

/**
 * Writes `files` (paths relative to the directory) and runs `start(dir)`;
 * resolves once `ready(proc)` does. On failure the error says `what` could
 * not start and how to install it (`hint`).
 */
export async function startInTempDir<R>(
  prefix: string,
  files: Record<string, string>,
  start: (dir: string) => Proc | Promise<Proc>,
  ready: (proc: Proc) => Promise<R>,
  failure: { what: string; hint: string },
): Promise<TempDirApp<R>> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let proc: Proc | undefined;
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const started = (proc = await start(dir));
    return {
      dir,
      proc: started,
      ready: await ready(started),
      async close() {
        await started.kill();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await proc?.kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start ${failure.what} (${(err as Error).message}); ${failure.hint}`);
  }
}
