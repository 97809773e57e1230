/**
 * PASS/FAIL lines for the benchmark's goals, computed from the same run's
 * figures. A goal that could not be measured is reported as such, never as a
 * pass. Goals are tagged by the path they judge: [relay] or [p2p].
 */
import { METRICS, ratioToDirect } from './metrics.mjs';

/** The relay must be at least as fast as localtunnel (both as ratios to direct), on every column. */
const RELAY_MIN_OVER_LOCALTUNNEL = 1;
/**
 * The relay must reach this fraction of the "two bare TCP pipes" row, on every
 * column: that row is two Node processes copying bytes and nothing else, the
 * floor of any relay through a tunnel server and an agent on this machine.
 */
const RELAY_MIN_OVER_PIPES = 0.6;

/** @typedef {{ area: 'relay' | 'p2p', goal: string, verdict: 'PASS' | 'FAIL' | 'NOT MEASURED', detail: string }} GoalCheck */

/**
 * @param {Array<{ id: string, status: string, metrics: Record<string, any>, errors: Record<string,string> }>} rows
 * @returns {GoalCheck[]}
 */
export function evaluateRelayGoals(rows) {
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  if (!byId.wingmanRelay) return [];
  const value = (id, key) => (byId[id]?.status === 'ok' && !byId[id].errors[key] ? byId[id].metrics[key] : undefined);
  const checks = [];
  for (const m of METRICS) {
    if (m.kind === 'bool') {
      const w = value('wingmanRelay', m.key);
      checks.push({
        area: 'relay',
        goal: `${m.label}: works through wingman relay`,
        verdict: w === undefined ? 'NOT MEASURED' : w ? 'PASS' : 'FAIL',
        detail: `wingman ${fmtBool(w)}, localtunnel ${fmtBool(value('localtunnel', m.key))}`,
      });
      continue;
    }
    const d = value('direct', m.key);
    const w = ratioToDirect(m, value('wingmanRelay', m.key), d);
    // The mux floor (what a relay whose agent does not parse HTTP costs at best) is printed beside wingman, not judged.
    const floor = byId.muxFloor ? ratioToDirect(m, value('muxFloor', m.key), d) : undefined;
    const against = [
      { id: 'localtunnel', name: 'localtunnel', short: 'localtunnel', factor: RELAY_MIN_OVER_LOCALTUNNEL },
      { id: 'tcpPipes', name: 'two bare TCP pipes', short: 'pipes', factor: RELAY_MIN_OVER_PIPES },
    ];
    for (const a of against) {
      if (!byId[a.id]) continue;
      const goal = `${m.label}: wingman relay ≥ ${a.factor}× ${a.name} (ratios to direct)`;
      const other = ratioToDirect(m, value(a.id, m.key), d);
      if (w === null || other === null) {
        checks.push({ area: 'relay', goal, verdict: 'NOT MEASURED', detail: `wingman ${fmtRatio(w)}, ${a.name} ${fmtRatio(other)}` });
        continue;
      }
      const needed = a.factor * other;
      const of = (r) => (a.factor === 1 ? '' : ` = ${(r / other).toFixed(2)}× ${a.short}`);
      const floorDetail = floor === undefined ? '' : `; mux floor ${fmtRatio(floor)}${floor === null ? '' : of(floor)}`;
      checks.push({
        area: 'relay',
        goal,
        verdict: w >= needed ? 'PASS' : 'FAIL',
        detail: `wingman ×${w.toFixed(2)}${of(w)} vs needed ×${needed.toFixed(2)} (${a.name} ×${other.toFixed(2)})${floorDetail}`,
      });
    }
  }
  return checks;
}

/** @param {GoalCheck[]} checks */
export function renderGoals(checks) {
  return checks.map((c) => `${c.verdict.padEnd(12)} [${c.area}] ${c.goal} — ${c.detail}`).join('\n');
}

function fmtBool(v) {
  return v === undefined ? 'n/a' : v ? 'yes' : 'no';
}

function fmtRatio(r) {
  return r === null ? 'n/a' : `×${r.toFixed(2)}`;
}

/** P2P bulk MB/s as a ratio to the raw data channel (bench process ↔ raw host, both Node with wrtc). */
const P2P_MIN_BULK_RATIO = 0.8;
/** P2P small-request p50 added over a raw data-channel ping. */
const P2P_MAX_ADDED_P50_MS = 2;

/**
 * The P2P goals from the Node-viewer row: the protocol over the data channel
 * against the raw channel (bench process ↔ raw host), same run.
 * @param {Array<{ id: string, status: string, metrics: Record<string, any>, p2p?: Record<string, any>, reason?: string }>} rows
 * @returns {GoalCheck[]}
 */
export function evaluateP2PGoals(rows) {
  const row = rows.find((r) => r.id === 'p2pNode');
  if (!row) return [];
  const ok = row.status === 'ok';
  const bulk = ok ? row.metrics.downloadMBps : undefined;
  const rawBulk = ok ? row.p2p?.rawBulkMBps : undefined;
  const p50 = ok ? row.metrics.c1P50Ms : undefined;
  const rawP50 = ok ? row.p2p?.rawPingP50Ms : undefined;
  const missing = row.reason ?? 'a figure is missing';
  const bulkGoal = `P2P 100 MiB GET ≥ ${P2P_MIN_BULK_RATIO}× the raw data channel`;
  const p50Goal = `P2P 1 KiB GET p50 ≤ raw channel ping p50 + ${P2P_MAX_ADDED_P50_MS} ms`;
  const checks = [];
  if (typeof bulk === 'number' && typeof rawBulk === 'number' && rawBulk > 0) {
    const r = bulk / rawBulk;
    checks.push({
      area: 'p2p',
      goal: bulkGoal,
      verdict: r >= P2P_MIN_BULK_RATIO ? 'PASS' : 'FAIL',
      detail: `${bulk.toFixed(1)} vs ${rawBulk.toFixed(1)} MB/s = ×${r.toFixed(2)}`,
    });
  } else {
    checks.push({ area: 'p2p', goal: bulkGoal, verdict: 'NOT MEASURED', detail: missing });
  }
  if (typeof p50 === 'number' && typeof rawP50 === 'number') {
    const added = p50 - rawP50;
    checks.push({
      area: 'p2p',
      goal: p50Goal,
      verdict: added <= P2P_MAX_ADDED_P50_MS ? 'PASS' : 'FAIL',
      detail: `${p50.toFixed(3)} − ${rawP50.toFixed(3)} = ${added.toFixed(3)} ms added`,
    });
  } else {
    checks.push({ area: 'p2p', goal: p50Goal, verdict: 'NOT MEASURED', detail: missing });
  }
  return checks;
}
