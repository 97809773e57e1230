/**
 * The lab's human output: one table row per scenario, then one line per
 * failed check, plus the observations (candidates, ICE failure times) that
 * the numbers alone do not show.
 */

const fmt = (v, digits = 0) => (typeof v === 'number' ? v.toFixed(digits) : '—');

/**
 * @param {import('./run-scenario.mjs').ScenarioResult[]} rows
 * @returns {string} a Markdown table (readable in a terminal, pasteable into docs/lab.md)
 */
export function formatTable(rows) {
  const head = ['scenario', 'path selected', 'expected', 'first app byte ms', 'app doc via', 'P2P usable ms', '50 MiB MB/s', 'small p50 ms', 'checks'];
  const body = rows.map((r) => [
    r.mode ? `${r.scenario} [${r.mode}]` : r.scenario,
    r.transport ?? '—',
    r.expected.join(' or '),
    fmt(r.firstByteMs),
    r.appDocument?.transport ?? '—',
    r.p2pReadyMs === null ? `— (${r.p2pVerdict ?? 'n/a'}${typeof r.p2pVerdictMs === 'number' ? ` at ${r.p2pVerdictMs} ms` : ''})` : fmt(r.p2pReadyMs),
    fmt(r.downloadMBps, 1),
    fmt(r.smallP50Ms, 1),
    r.ok ? 'all passed' : `FAILED: ${r.failed.join(', ')}`,
  ]);
  return markdownTable(head, body);
}

function markdownTable(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * The WAN comparison: one row per scenario and mode.
 * @param {Array<Record<string, any>>} rows
 */
export function formatWanTable(rows) {
  const head = ['scenario', 'mode', 'path', 'cold visit ms', 'warm reload ms', 'reload, SW stopped ms', 'API p50 / p99 ms', '20 MiB down MB/s', '20 MiB up MB/s', 'server wire B / app B', 'checks'];
  const body = rows.map((r) => [
    r.scenario,
    r.mode,
    r.transport ?? '—',
    fmt(r.coldMs),
    fmt(r.warmReload?.ms),
    fmt(r.swStoppedReload?.ms),
    `${fmt(r.smallP50Ms)} / ${fmt(r.smallP99Ms)}`,
    fmt(r.downloadMBps, 1),
    fmt(r.uploadMBps, 1),
    fmt(r.serverWirePerAppByte, 3),
    r.ok ? 'all passed' : `FAILED: ${r.failed.join(', ')}`,
  ]);
  return markdownTable(head, body);
}

/** Details worth reading under the table: selected pairs, candidates, errors, ICE failure times. */
export function formatDetails(rows) {
  const out = [];
  for (const r of rows) {
    const parts = [];
    if (r.kind === 'delay-check' && r.measured) parts.push(`configured ${JSON.stringify(r.configured)}, measured ${JSON.stringify(r.measured)}`);
    if (r.serverBytes) parts.push(`server bytes ${JSON.stringify(r.serverBytes)}`);
    if (r.warmReload) parts.push(`reloads: warm ${JSON.stringify(r.warmReload)}, SW stopped ${JSON.stringify(r.swStoppedReload)}`);
    if (r.pair) parts.push(`pair ${r.pair}${typeof r.path?.rttMs === 'number' ? ` (rtt ${r.path.rttMs} ms)` : ''}`);
    if (r.timeline) {
      const marks = ['script', 'attempt', 'sw-controls', 'frame-load', 'channel-open', 'ready'].filter((m) => typeof r.timeline[m] === 'number');
      parts.push(`shell ${marks.map((m) => `${m} ${Math.round(r.timeline[m])}`).join(', ')} ms`);
    }
    if (r.candidates) parts.push(`candidates gathered ${JSON.stringify(r.candidates.local)}, received ${JSON.stringify(r.candidates.remote)}`);
    if (r.iceFailure) parts.push(r.iceFailure.failedAfterMs === null ? `Chromium never reported ICE failed (${r.iceFailure.note})` : `Chromium reported ICE failed after ${r.iceFailure.failedAfterMs} ms`);
    if (r.error) parts.push(`error: ${r.error}`);
    out.push(`- ${r.scenario}${r.mode ? ` [${r.mode}]` : ''} (${r.title}): ${parts.join('; ') || 'no details'}`);
  }
  return out.join('\n');
}

/** The product's promise, per WAN scenario: P2P against the relay-only session, and the server's share. */
const GOALS = [
  ['cold visit', (r) => r.coldMs, 'lower'],
  ['warm reload', (r) => r.warmReload?.ms, 'lower'],
  ['API p50', (r) => r.smallP50Ms, 'lower'],
  ['20 MiB down', (r) => r.downloadMBps, 'higher'],
  ['20 MiB up', (r) => r.uploadMBps, 'higher'],
];
/** "The server carries almost nothing": signaling only, well under 5 % of the payload on the server's wire. */
const SERVER_SHARE_GOAL = 0.05;

/**
 * PASS/FAIL lines for the speed goals (never asserted in tests: this machine is shared and noisy).
 * @param {Array<Record<string, any>>} rows
 */
export function formatWanGoals(rows) {
  const out = [];
  for (const name of [...new Set(rows.map((r) => r.scenario))]) {
    const p2p = rows.find((r) => r.scenario === name && r.mode === 'p2p');
    const relay = rows.find((r) => r.scenario === name && r.mode === 'relay-only');
    if (!p2p) continue;
    if (relay) {
      for (const [what, get, better] of GOALS) {
        const a = get(p2p);
        const b = get(relay);
        if (typeof a !== 'number' || typeof b !== 'number') continue;
        const pass = better === 'lower' ? a <= b : a >= b;
        out.push(`${pass ? 'PASS' : 'FAIL'} ${name}: ${what} over Wingman P2P (${p2p.transport}) ${a} vs relay-only ${b} (${better} is better)`);
      }
    }
    const share = p2p.serverWirePerAppByte;
    if (typeof share === 'number') out.push(`${share < SERVER_SHARE_GOAL ? 'PASS' : 'FAIL'} ${name}: server wire bytes per app byte with P2P ${share} (goal < ${SERVER_SHARE_GOAL})`);
  }
  return out.join('\n');
}
