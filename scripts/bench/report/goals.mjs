/**
 * PASS/FAIL lines for the goals the issues set on the bench, computed from the
 * same run's figures. A goal that could not be measured is reported as such,
 * never as a pass.
 */
import { METRICS, ratioToDirect } from './metrics.mjs';

/** Issue 2: "every column at least 2× localtunnel's ratio". */
const ISSUE2_FACTOR_OVER_LOCALTUNNEL = 2;
/** Issue 2: "100 MiB GET and 20 MiB POST ≥ 0.35× direct". */
const ISSUE2_MIN_BULK_RATIO = 0.35;

/**
 * @param {Array<{ id: string, status: string, metrics: Record<string, any>, errors: Record<string,string> }>} rows
 * @returns {Array<{ issue: number, goal: string, verdict: 'PASS' | 'FAIL' | 'NOT MEASURED', detail: string }>}
 */
export function evaluateIssue2Goals(rows) {
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  // Issue 2's goals compare the relay with localtunnel: nothing to say when neither was asked for (--rows).
  if (!byId.wingmanRelay && !byId.localtunnel) return [];
  const value = (id, key) => (byId[id]?.status === 'ok' && !byId[id].errors[key] ? byId[id].metrics[key] : undefined);
  const checks = [];
  for (const m of METRICS) {
    const goal = `${m.label}: wingman relay ≥ ${ISSUE2_FACTOR_OVER_LOCALTUNNEL}× localtunnel (ratios to direct)`;
    if (m.kind === 'bool') {
      const w = value('wingmanRelay', m.key);
      const l = value('localtunnel', m.key);
      // A yes/no cannot be "2×" another; the goal is read as: it works through Wingman.
      checks.push({
        issue: 2,
        goal: `${m.label}: works through wingman relay`,
        verdict: w === undefined ? 'NOT MEASURED' : w ? 'PASS' : 'FAIL',
        detail: `wingman ${fmtBool(w)}, localtunnel ${fmtBool(l)}`,
      });
      continue;
    }
    const d = value('direct', m.key);
    const w = ratioToDirect(m, value('wingmanRelay', m.key), d);
    const l = ratioToDirect(m, value('localtunnel', m.key), d);
    if (w === null || l === null) {
      checks.push({ issue: 2, goal, verdict: 'NOT MEASURED', detail: `wingman ${fmtRatio(w)}, localtunnel ${fmtRatio(l)}` });
      continue;
    }
    const needed = ISSUE2_FACTOR_OVER_LOCALTUNNEL * l;
    checks.push({
      issue: 2,
      goal,
      verdict: w >= needed ? 'PASS' : 'FAIL',
      detail: `wingman ×${w.toFixed(2)} vs needed ×${needed.toFixed(2)} (localtunnel ×${l.toFixed(2)})${floorNote(m, needed, value('tcpPipes', m.key), d)}`,
    });
  }
  for (const key of ['downloadMBps', 'uploadMBps']) {
    const m = METRICS.find((x) => x.key === key);
    const w = ratioToDirect(m, value('wingmanRelay', key), value('direct', key));
    checks.push({
      issue: 2,
      goal: `${m.label}: wingman relay ≥ ${ISSUE2_MIN_BULK_RATIO}× direct`,
      verdict: w === null ? 'NOT MEASURED' : w >= ISSUE2_MIN_BULK_RATIO ? 'PASS' : 'FAIL',
      detail: `wingman ×${w === null ? 'n/a' : w.toFixed(2)}${floorNote(m, ISSUE2_MIN_BULK_RATIO, value('tcpPipes', key), value('direct', key))}`,
    });
  }
  return checks;
}

/**
 * What the "two bare TCP pipes" row (when it ran) says about a target: it is
 * the best any relay through two Node processes can do here, so a target
 * above it cannot be met by such a relay on this machine.
 */
function floorNote(metric, needed, pipesValue, directValue) {
  const p = ratioToDirect(metric, pipesValue, directValue);
  if (p === null) return '';
  return `; two bare TCP pipes ×${p.toFixed(2)}${needed > p ? ' — the target is above even that floor' : ''}`;
}

export function renderGoals(checks) {
  return checks.map((c) => `${c.verdict.padEnd(12)} [issue ${c.issue}] ${c.goal} — ${c.detail}`).join('\n');
}

function fmtBool(v) {
  return v === undefined ? 'n/a' : v ? 'yes' : 'no';
}

function fmtRatio(r) {
  return r === null ? 'n/a' : `×${r.toFixed(2)}`;
}

/** Issue 3: "bulk MB/s as a ratio to the raw channel (goal ≥ 0.8)". */
const ISSUE3_MIN_BULK_RATIO = 0.8;
/** Issue 3: "small-request p50 added over a raw channel ping (goal ≤ 2 ms)". */
const ISSUE3_MAX_ADDED_P50_MS = 2;

/**
 * Issue 3's goals from the P2P row (protocol over the data channel vs the raw
 * channel between the same two processes, same run).
 * @param {Array<{ id: string, status: string, metrics: Record<string, any>, p2p?: Record<string, any> }>} rows
 */
export function evaluateIssue3Goals(rows) {
  const row = rows.find((r) => r.id === 'p2pNode');
  if (!row) return [];
  const ok = row.status === 'ok';
  const bulk = ok ? row.metrics.downloadMBps : undefined;
  const rawBulk = ok ? row.p2p?.rawBulkMBps : undefined;
  const p50 = ok ? row.metrics.c1P50Ms : undefined;
  const rawP50 = ok ? row.p2p?.rawPingP50Ms : undefined;
  const checks = [];
  if (typeof bulk === 'number' && typeof rawBulk === 'number' && rawBulk > 0) {
    const r = bulk / rawBulk;
    checks.push({ issue: 3, goal: `P2P 100 MiB GET ≥ ${ISSUE3_MIN_BULK_RATIO}× the raw data channel`, verdict: r >= ISSUE3_MIN_BULK_RATIO ? 'PASS' : 'FAIL', detail: `${bulk.toFixed(1)} vs ${rawBulk.toFixed(1)} MB/s = ×${r.toFixed(2)}` });
  } else {
    checks.push({ issue: 3, goal: `P2P 100 MiB GET ≥ ${ISSUE3_MIN_BULK_RATIO}× the raw data channel`, verdict: 'NOT MEASURED', detail: row.reason ?? 'a figure is missing' });
  }
  if (typeof p50 === 'number' && typeof rawP50 === 'number') {
    const added = p50 - rawP50;
    checks.push({ issue: 3, goal: `P2P 1 KiB GET p50 ≤ raw channel ping p50 + ${ISSUE3_MAX_ADDED_P50_MS} ms`, verdict: added <= ISSUE3_MAX_ADDED_P50_MS ? 'PASS' : 'FAIL', detail: `${p50.toFixed(3)} − ${rawP50.toFixed(3)} = ${added.toFixed(3)} ms added` });
  } else {
    checks.push({ issue: 3, goal: `P2P 1 KiB GET p50 ≤ raw channel ping p50 + ${ISSUE3_MAX_ADDED_P50_MS} ms`, verdict: 'NOT MEASURED', detail: row.reason ?? 'a figure is missing' });
  }
  return checks;
}
