/**
 * Per-request stall figures of one page load, from the app frame's Resource
 * Timing (in-page.mjs requestTimes: each request's requestStart →
 * responseEnd). A request is stalled when it took more than
 * max(STALL_FACTOR × p50, p50 + STALL_MARGIN_MS): on a lossy path that is a
 * lost packet holding a response up for a retransmission, which a p50 hides.
 */

/** Stalled: slower than this multiple of the load's p50 … */
export const STALL_FACTOR = 3;
/** … and than the p50 plus this (a fast load's p50 of a few ms would make 3× meaningless). */
export const STALL_MARGIN_MS = 200;
/** The slowest stalled requests named in the figures. */
const NAMED = 3;

/**
 * @typedef {object} StallFigures
 * @property {number} count requests
 * @property {number | null} p50Ms @property {number | null} p90Ms @property {number | null} maxMs
 * @property {number | null} thresholdMs above this a request is stalled
 * @property {number} stalled how many were
 * @property {number} stalledExcessMs the stalled requests' time above p50, summed
 * @property {Array<{ name: string, ms: number }>} slowest the slowest stalled ones
 */

/** The q-quantile of sorted numbers (nearest rank). */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
}

/**
 * @param {Array<{ name: string, ms: number }>} requests
 * @returns {StallFigures}
 */
export function stallFigures(requests) {
  const valid = requests.filter((r) => typeof r.ms === 'number' && Number.isFinite(r.ms) && r.ms >= 0);
  const sorted = valid.map((r) => r.ms).sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0, p50Ms: null, p90Ms: null, maxMs: null, thresholdMs: null, stalled: 0, stalledExcessMs: 0, slowest: [] };
  const p50 = quantile(sorted, 0.5);
  const threshold = Math.max(STALL_FACTOR * p50, p50 + STALL_MARGIN_MS);
  const stalled = valid.filter((r) => r.ms > threshold).sort((a, b) => b.ms - a.ms);
  const round = (ms) => Math.round(ms);
  return {
    count: sorted.length,
    p50Ms: round(p50),
    p90Ms: round(quantile(sorted, 0.9)),
    maxMs: round(sorted[sorted.length - 1]),
    thresholdMs: round(threshold),
    stalled: stalled.length,
    stalledExcessMs: round(stalled.reduce((sum, r) => sum + (r.ms - p50), 0)),
    slowest: stalled.slice(0, NAMED).map((r) => ({ name: r.name, ms: round(r.ms) })),
  };
}
