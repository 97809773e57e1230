/**
 * Counters over a span: `after` minus `before`, field by field, through
 * nested objects and arrays (a delay line's rules, by position). A field
 * with no number before counts from zero (a counter that started during the
 * span); a field that is not a number is copied from `after`.
 * @template T
 * @param {T} after
 * @param {unknown} before
 * @returns {T}
 */
export function counterDelta(after, before) {
  if (typeof after === 'number') return /** @type {T} */ (typeof before === 'number' ? after - before : after);
  if (Array.isArray(after)) return /** @type {T} */ (after.map((v, i) => counterDelta(v, Array.isArray(before) ? before[i] : undefined)));
  if (after !== null && typeof after === 'object') {
    const b = before !== null && typeof before === 'object' ? before : {};
    return /** @type {T} */ (Object.fromEntries(Object.entries(after).map(([k, v]) => [k, counterDelta(v, b[k])])));
  }
  return after;
}
