/**
 * Latency percentiles from raw samples. autocannon's own histogram records
 * whole milliseconds, and on loopback a 1 KiB GET takes a fraction of one, so
 * its p50 would read 0 ms for most rows and every ratio would be 0/0.
 */

/**
 * Nearest-rank percentile of the first `n` samples (sorts them in place).
 * @param {Float64Array} samples
 * @param {number} n
 * @param {number[]} ps percentiles in 0..100
 * @returns {number[] | null} values in the samples' unit, null when there are none
 */
export function percentiles(samples, n, ps) {
  if (n === 0) return null;
  const sorted = samples.subarray(0, n).sort();
  return ps.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]);
}
