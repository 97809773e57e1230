/**
 * The printed table (Markdown, so docs/benchmarks.md can take it as is):
 * one line per measurement, one column per row of the bench, each figure
 * followed by its ratio to direct in the same run.
 */
import { METRICS, formatRatio, formatValue, ratioToDirect } from './metrics.mjs';

/**
 * @param {Array<{ id: string, label: string, status: string, reason?: string, metrics: Record<string, any>, errors: Record<string, string> }>} rows
 * @returns {string}
 */
export function renderTable(rows) {
  const direct = rows.find((r) => r.id === 'direct');
  const header = ['measurement', ...rows.map((r) => r.label)];
  const lines = METRICS.map((m) => [
    m.label,
    ...rows.map((r) => {
      if (r.status !== 'ok') return r.status === 'unavailable' ? 'not run' : 'failed';
      const v = r.metrics[m.key];
      if (r.errors[m.key]) return 'error';
      return formatValue(m, v) + formatRatio(r.id === 'direct' ? null : ratioToDirect(m, v, direct?.metrics[m.key]));
    }),
  ]);
  return markdown([header, ...lines]);
}

/** Notes under the table: rows not run, measurement errors, load-generator errors. */
export function renderNotes(rows) {
  const notes = [];
  for (const r of rows) {
    if (r.status !== 'ok') notes.push(`- ${r.label}: ${r.status === 'unavailable' ? 'not run' : 'failed'}: ${r.reason}`);
    for (const [key, msg] of Object.entries(r.errors ?? {})) notes.push(`- ${r.label}, ${key}: ${msg}`);
    for (const c of ['c1', 'c50']) {
      const load = r.load?.[c];
      if (load && load.errors + load.timeouts + load.non2xx > 0) {
        notes.push(
          `- ${r.label}, ${c}: ${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx out of ${load.completed} completed (not counted in req/s or latency)`,
        );
      }
    }
  }
  return notes.join('\n');
}

/** @param {string[][]} cells first line is the header */
export function markdown(cells) {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const fmt = (line) => `| ${line.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(fmt)].join('\n');
}

/**
 * The P2P comparison: the protocol over the data channel against
 * the raw channel (bench process ↔ raw host), same run.
 * @returns {string} empty when the P2P row did not run
 */
export function renderP2PTable(rows) {
  const row = rows.find((r) => r.id === 'p2pNode');
  if (!row || row.status !== 'ok') return '';
  const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : 'n/a');
  const m = row.metrics;
  const p = row.p2p;
  const ratio = typeof m.downloadMBps === 'number' && p.rawBulkMBps > 0 ? ` (×${(m.downloadMBps / p.rawBulkMBps).toFixed(2)})` : '';
  const added = (a, b) => (typeof a === 'number' && typeof b === 'number' ? ` (+${(a - b).toFixed(3)} ms)` : '');
  return markdown([
    ['P2P: Node ↔ Node, wrtc', 'raw data channel', 'protocol (Node viewer)'],
    ['100 MiB download: MB/s', f(p.rawBulkMBps), f(m.downloadMBps) + ratio],
    ['small exchange p50: ms (raw: ping; protocol: 1 KiB GET)', f(p.rawPingP50Ms, 3), f(m.c1P50Ms, 3) + added(m.c1P50Ms, p.rawPingP50Ms)],
    ['small exchange p99: ms', f(p.rawPingP99Ms, 3), f(m.c1P99Ms, 3) + added(m.c1P99Ms, p.rawPingP99Ms)],
    ['CPU µs per small exchange, far end (raw: host per ping; protocol: P2P host per GET)', f(p.rawHostCpuUsPerPing, 0), f(p2pHostCpu(row), 0)],
    ['time to open the data channel: ms', '', f(p.connectMs, 0)],
  ]);
}

/** The CPU per request at c=1 of the agent's P2P host process that carried the viewer (the busier of the two; the other is the spare). */
function p2pHostCpu(row) {
  const hosts = (row.load?.c1?.cpu?.processes ?? []).filter((proc) => proc.name.startsWith('P2P host'));
  return hosts.length === 0 ? undefined : Math.max(...hosts.map((proc) => proc.usPerRequest));
}

/**
 * CPU per request at c=1: for each row, each of its processes' CPU time over
 * the counted 1 KiB GETs ÷ their number (lib/proc.mjs), and the sum. The
 * load generator (the bench process) is not counted.
 * @returns {string} empty when no row measured it
 */
export function renderCpuTable(rows) {
  const lines = [];
  for (const r of rows) {
    const cpu = r.load?.c1?.cpu;
    if (!cpu) continue;
    if (cpu.error !== undefined) {
      lines.push([r.label, 'error', cpu.error]);
      continue;
    }
    const total = cpu.processes.reduce((sum, p) => sum + p.usPerRequest, 0);
    lines.push([r.label, total.toFixed(0), cpu.processes.map((p) => `${p.name} ${p.usPerRequest.toFixed(0)}`).join(', ')]);
  }
  if (lines.length === 0) return '';
  return markdown([['CPU µs per request at c=1', 'all processes', 'each process'], ...lines]);
}
