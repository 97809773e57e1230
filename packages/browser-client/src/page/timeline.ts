/**
 * Milestones of the shell's start-up, ms since the navigation started
 * (performance.now()): what benchmarks read to see where the time to a
 * usable channel goes. The first occurrence of each name is kept.
 */
const marks: Record<string, number> = {};

export function mark(name: string): void {
  if (!(name in marks)) marks[name] = Math.round(performance.now() * 10) / 10;
}

export function timeline(): Record<string, number> {
  return { ...marks };
}

/** A milestone taken elsewhere (the shell's inline script), at `at` ms since the navigation started. */
export function markAt(name: string, at: number): void {
  if (!(name in marks)) marks[name] = Math.round(at * 10) / 10;
}
