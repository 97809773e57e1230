/**
 * The table's measurements, their units and how a ratio to "direct" is taken.
 * Every ratio reads "fraction of direct's performance", higher is better:
 * row ÷ direct for rates, direct ÷ row for latencies (a latency twice direct's
 * is ×0.50), so "wingman's ratio ≥ 2 × localtunnel's" means the same for every column.
 */

/** @typedef {{ key: string, label: string, kind: 'higher' | 'lower' | 'bool' }} Metric */

/** @type {Metric[]} */
export const METRICS = [
  { key: 'c1ReqPerSec', label: '1 KiB GET, c=1: req/s', kind: 'higher' },
  { key: 'c1P50Ms', label: '1 KiB GET, c=1: p50 ms', kind: 'lower' },
  { key: 'c1P99Ms', label: '1 KiB GET, c=1: p99 ms', kind: 'lower' },
  { key: 'c50ReqPerSec', label: '1 KiB GET, c=50: req/s', kind: 'higher' },
  { key: 'c50P50Ms', label: '1 KiB GET, c=50: p50 ms', kind: 'lower' },
  { key: 'c50P99Ms', label: '1 KiB GET, c=50: p99 ms', kind: 'lower' },
  { key: 'downloadMBps', label: '100 MiB GET: MB/s', kind: 'higher' },
  { key: 'uploadMBps', label: '20 MiB POST: MB/s', kind: 'higher' },
  { key: 'websocket', label: 'WebSocket echo works', kind: 'bool' },
  { key: 'sse', label: 'SSE streams (event before end)', kind: 'bool' },
];

/**
 * Ratio of a row's figure to direct's, as a fraction of direct's performance.
 * @param {Metric} metric
 * @param {number | boolean | null | undefined} value
 * @param {number | boolean | null | undefined} direct
 * @returns {number | null}
 */
export function ratioToDirect(metric, value, direct) {
  if (metric.kind === 'bool' || typeof value !== 'number' || typeof direct !== 'number') return null;
  if (value <= 0 || direct <= 0) return null;
  return metric.kind === 'higher' ? value / direct : direct / value;
}

/** Absolute figure with about three significant digits (latencies below 10 ms get three decimals). */
export function formatValue(metric, value) {
  if (value === null || value === undefined) return 'n/a';
  if (metric.kind === 'bool') return value ? 'yes' : 'no';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : metric.kind === 'lower' ? 3 : 2;
  return value.toFixed(digits);
}

export function formatRatio(ratio) {
  return ratio === null ? '' : ` (×${ratio.toFixed(2)})`;
}
