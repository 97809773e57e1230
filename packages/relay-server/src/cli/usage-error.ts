/** A bad flag, variable or config value: `wingman` prints its one-line message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
