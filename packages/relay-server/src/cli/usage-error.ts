import { readFileSync } from 'node:fs';

/** A bad flag, variable or config value: `wingman` prints its one-line message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A file the user named (`what`: the flag naming it, or ''), as text; `missing`: the message when it does not exist. */
export function readUserFile(path: string, what: string, missing?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' && missing !== undefined ? missing : `cannot read ${what}${path}: ${code ?? (err as Error).message}`);
  }
}
