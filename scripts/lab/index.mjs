#!/usr/bin/env node
/**
 * `npm run lab` — the network lab (docs/lab.md). As root: for each
 * scenario, network namespaces joined by veth pairs in 10.231.0.0/16 (NAT,
 * firewalls, coturn), Wingman's real processes, headless Chromium as the
 * reviewer; prints what carried the app and how fast. Nothing is connected
 * to the caller's namespace; everything is torn down at the end, on failure,
 * and on SIGINT/SIGTERM.
 *
 *   npm run lab                         the six scenarios, as a table
 *   npm run lab -- --json               one JSON array on stdout (progress on stderr)
 *   npm run lab -- --only lan,cone-nat  a subset
 *   npm run lab -- --tuning             ICE give-up measurements (minutes; not in CI)
 *   npm run lab -- --cleanup            only remove namespaces left by killed runs
 * Exit code: 0 when every check of every scenario passed, 1 otherwise, 2 when the lab cannot run.
 */
import { parseArgs } from 'node:util';
import { cleanupPrefix, cleanupStaleRuns, runPrefix } from './netns.mjs';
import { labProblems } from './prereqs.mjs';
import { formatDetails, formatTable } from './report.mjs';
import { runScenario } from './run-scenario.mjs';
import { SCENARIOS, TUNING_SCENARIOS } from './scenarios.mjs';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    tuning: { type: 'boolean', default: false },
    cleanup: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const prefix = runPrefix();
const log = (s) => {
  if (!values.quiet) process.stderr.write(`[lab] ${s}\n`);
};

// Clean-up is synchronous (netns.mjs) so that it also runs from these handlers.
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  const problems = cleanupPrefix(prefix);
  for (const p of problems) process.stderr.write(`[lab] clean-up: ${p}\n`);
}
process.on('exit', cleanup);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(signal, () => {
    process.stderr.write(`[lab] ${signal}: tearing the lab down\n`);
    cleanup();
    process.exit(code);
  });
}
process.on('uncaughtException', (err) => {
  process.stderr.write(`[lab] ${err.stack ?? err}\n`);
  cleanup();
  process.exit(1);
});

process.exitCode = await main();

async function main() {
  const problems = labProblems();
  if (problems.length > 0) {
    process.stderr.write(`[lab] cannot run the network lab:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }
  const stale = cleanupStaleRuns();
  if (stale.length > 0) log(`removed ${stale.length} namespaces left by earlier runs`);
  if (values.cleanup) return 0;

  const pool = values.tuning ? TUNING_SCENARIOS : SCENARIOS;
  let selected = pool;
  if (values.only) {
    const names = values.only.split(',').map((s) => s.trim());
    const all = [...SCENARIOS, ...TUNING_SCENARIOS];
    const unknown = names.filter((n) => !all.some((s) => s.name === n));
    if (unknown.length > 0) {
      process.stderr.write(`[lab] unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}\n`);
      return 2;
    }
    selected = all.filter((s) => names.includes(s.name));
  }

  const rows = [];
  const all = [...SCENARIOS, ...TUNING_SCENARIOS];
  for (const scenario of selected) {
    // The index fixes the scenario's address block, so a scenario always has the same addresses.
    const index = all.indexOf(scenario);
    log(`${scenario.name}: ${scenario.title}`);
    const row = await runScenario({ prefix, index, scenario, log });
    log(`${scenario.name}: ${row.ok ? 'ok' : `FAILED (${row.failed.join(', ')})`} — transport ${row.transport}, first byte ${row.firstByteMs} ms, P2P ${row.p2pReadyMs ?? '—'} ms, ${(row.durationMs / 1000).toFixed(1)} s${row.error ? `; ${row.error.split('\n')[0]}` : ''}`);
    rows.push(row);
  }
  cleanup();

  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    process.stdout.write(`\n${formatTable(rows)}\n\n${formatDetails(rows)}\n`);
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}
