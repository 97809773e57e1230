/** `fn()`, or undefined when it throws: for a call whose failure the caller shrugs off (a closed port or channel, disabled storage). */
export function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
