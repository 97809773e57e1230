/**
 * Milestones of the shell's start-up, ms since the navigation started
 * (performance.now()): what benchmarks read to see where the time to a
 * usable channel goes. The first occurrence of each name is kept. Both of
 * the shell's bundles mark here: the record is on the window
 * (`__wingmanTimeline`), so the inline script's marks are client.js's first ones.
 */
const marks: Record<string, number> = ((window as { __wingmanTimeline?: Record<string, number> }).__wingmanTimeline ??= {});

/** A milestone at `at` ms since the navigation started (now, when not given). */
export function mark(name: string, at = performance.now()): void {
  if (!(name in marks)) marks[name] = Math.round(at * 10) / 10;
}

export function timeline(): Record<string, number> {
  return { ...marks };
}
