/** Byte helpers of the protocol package (isomorphic: Uint8Array only). */

/** Joins `parts` into one new array; `total` (their summed length) may be passed when already known. */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
