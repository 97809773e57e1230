/**
 * Stream priority classes: which of a connection's streams the send side
 * serves first (frame-packer.ts), and the request field that carries a
 * request's class to the side that answers it. docs/PROTOCOL.md §Priority.
 */

/**
 * The classes, most urgent first: a page's document, then what renders it
 * (style, script, worker), then its data requests, then images, media and
 * fonts, then bulk transfers.
 */
export const PRIORITY_CLASSES = ['document', 'script', 'fetch', 'media', 'bulk'] as const;

export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

/** A stream's class when nobody chose one (and the value of anything unknown). */
export const DEFAULT_PRIORITY: PriorityClass = 'fetch';

/**
 * Request head field: the class the opener asks for the answer's stream,
 * one of PRIORITY_CLASSES. Optional (an older peer sends none and ignores it,
 * as it ignores any field), removed by the agent before the app.
 */
export const PRIORITY_HEADER = 'x-wingman-priority';

/** The rank of a class: 0 for the most urgent. */
export function priorityRank(cls: PriorityClass): number {
  return PRIORITY_CLASSES.indexOf(cls);
}

/** A value from the wire as a class: anything that is not exactly one of PRIORITY_CLASSES is the default. */
export function parsePriority(value: string | undefined): PriorityClass {
  const v = value?.trim() ?? '';
  return isPriorityClass(v) ? v : DEFAULT_PRIORITY;
}

function isPriorityClass(v: string): v is PriorityClass {
  return (PRIORITY_CLASSES as readonly string[]).includes(v);
}

/** The class a request head asks for (PRIORITY_HEADER; the default without one, or with an unknown or repeated one). */
export function requestedPriority(headers: ReadonlyArray<readonly [string, string]>): PriorityClass {
  const fields = headers.filter(([n]) => n === PRIORITY_HEADER);
  return fields.length === 1 ? parsePriority(fields[0]![1]) : DEFAULT_PRIORITY;
}

/** The head's fields without the priority field: what goes to a peer that does not announce CAPABILITIES.PRIORITY (it would hand the field to the app). */
export function withoutPriority(headers: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  return headers.filter(([n]) => n !== PRIORITY_HEADER).map(([n, v]) => [n, v]);
}
