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
      detail: `wingman ×${w.toFixed(2)} vs needed ×${needed.toFixed(2)} (localtunnel ×${l.toFixed(2)})`,
    });
  }
  for (const key of ['downloadMBps', 'uploadMBps']) {
    const m = METRICS.find((x) => x.key === key);
    const w = ratioToDirect(m, value('wingmanRelay', key), value('direct', key));
    checks.push({
      issue: 2,
      goal: `${m.label}: wingman relay ≥ ${ISSUE2_MIN_BULK_RATIO}× direct`,
      verdict: w === null ? 'NOT MEASURED' : w >= ISSUE2_MIN_BULK_RATIO ? 'PASS' : 'FAIL',
      detail: `wingman ×${w === null ? 'n/a' : w.toFixed(2)}`,
    });
  }
  return checks;
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
