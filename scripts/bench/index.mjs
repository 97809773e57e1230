#!/usr/bin/env node
/**
 * `npm run bench`: direct vs Wingman relay vs localtunnel (and the P2P rows),
 * with two bare TCP pipes as the floor of any two-process relay,
 * all on loopback in one run, each figure with its ratio to "direct" measured
 * in the same run; then a PASS/FAIL line per goal (report/goals.mjs).
 *
 *   node scripts/bench/index.mjs [--out results.json] [--rows direct,wingmanRelay,localtunnel,tcpPipes,muxFloor,p2pNode]
 *
 * Environment: BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_BULK_RUNS (5),
 * BENCH_TIMEOUT_S (1200). See docs/benchmarks.md.
 *
 * At c=1 it also reads each process's CPU time (lib/proc.mjs): CPU µs per
 * request of every process of every row, in `load.c1.cpu` and a table of its own.
 *
 * The whole run happens inside a loopback-only network namespace with its own
 * PID namespace and /proc (lib/netns.mjs); every process it starts is killed
 * on every exit path (lib/children.mjs).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killChildrenOnExit } from './lib/children.mjs';
import { readSettings } from './lib/config.mjs';
import { insideLoopbackNamespace, reexecInNamespace } from './lib/netns.mjs';
import { runHttpRows } from './lib/run-http-rows.mjs';
import { evaluateRelayGoals, evaluateP2PGoals, renderGoals } from './report/goals.mjs';
import { renderCpuTable, renderNotes, renderP2PTable, renderTable } from './report/table.mjs';
import { directRow } from './rows/direct.mjs';
import { localtunnelRow } from './rows/localtunnel.mjs';
import { muxFloorRow } from './rows/mux-floor.mjs';
import { tcpPipesRow } from './rows/tcp-pipes.mjs';
import { p2pNodeRow, runP2PNodeRow } from './rows/p2p-node.mjs';
import { wingmanRelayRow } from './rows/wingman-relay.mjs';

const log = (msg) => console.error(`[bench] ${msg}`);

/**
 * The rows. The browser rows are packages/browser-client/bench/run.mjs,
 * run after these by scripts/bench/all.mjs (`npm run bench`).
 */
const HTTP_ROWS = [directRow, wingmanRelayRow, localtunnelRow, tcpPipesRow, muxFloorRow];
const ALL_ROW_IDS = [...HTTP_ROWS, p2pNodeRow].map((r) => r.id);

let args;
try {
  args = parseArgs({ options: { out: { type: 'string' }, rows: { type: 'string' }, help: { type: 'boolean' } } }).values;
} catch (err) {
  console.error(`[bench] ${err.message}`);
  process.exit(2);
}
if (args.help) {
  console.log(`usage: npm run bench [-- --out results.json] [-- --rows ${ALL_ROW_IDS.join(',')}]`);
  process.exit(0);
}

if (!insideLoopbackNamespace()) {
  process.exitCode = await reexecInNamespace(fileURLToPath(import.meta.url), process.argv.slice(2));
} else {
  process.exitCode = await main();
  // wrtc (P2P rows) can keep native handles alive after close; the run is over.
  process.exit(process.exitCode);
}

async function main() {
  let settings;
  const wanted = args.rows ? args.rows.split(',').map((s) => s.trim()) : ALL_ROW_IDS;
  try {
    settings = readSettings();
    const unknown = wanted.filter((id) => !ALL_ROW_IDS.includes(id));
    if (unknown.length > 0) throw new Error(`unknown rows ${unknown.join(', ')}; known: ${ALL_ROW_IDS.join(', ')}`);
    if (!wanted.includes('direct')) throw new Error('the "direct" row is needed: every ratio divides by it');
  } catch (err) {
    log(err.message);
    return 2;
  }
  // The deadline is BENCH_TIMEOUT_S.
  killChildrenOnExit(log, settings.timeoutS);

  const startedAt = new Date();
  const rows = [];
  const loadBefore = loadavg();
  rows.push(
    ...(await runHttpRows(
      HTTP_ROWS.filter((r) => wanted.includes(r.id)),
      settings,
      log,
    )),
  );
  // The P2P row runs alone afterwards: it loads wrtc into this process.
  const closeAfterOutput = [];
  if (wanted.includes(p2pNodeRow.id)) rows.push(await runP2PNodeRow(settings, log, closeAfterOutput));
  for (const r of rows) if (r.status !== 'ok') log(`${r.label}: ${r.status}: ${r.reason}`);

  const goals = [...evaluateRelayGoals(rows), ...evaluateP2PGoals(rows)];
  const env = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    durationS: settings.durationS,
    warmupS: settings.warmupS,
    bulkRuns: settings.bulkRuns,
    // Other work on the machine shows in every figure; the load average says how much there was.
    loadavgBefore: loadBefore.map((x) => Number(x.toFixed(2))),
    loadavgAfter: loadavg().map((x) => Number(x.toFixed(2))),
    runSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  };
  const notes = renderNotes(rows);
  console.log(
    `Wingman bench — ${startedAt.toISOString()} — Node ${env.node}, ${env.cpus} CPUs (${env.cpuModel}), load average ${env.loadavgBefore.join(' ')} before, ${env.loadavgAfter.join(' ')} after`,
  );
  console.log(
    `${env.durationS} s per req/s measurement after ${env.warmupS} s warm-up; bulk figures are the median of ${env.bulkRuns} transfers; MB = 10^6 bytes; run took ${env.runSeconds} s.`,
  );
  console.log("Ratios (×) are fractions of direct's performance in this run, higher is better: row ÷ direct for rates, direct ÷ row for latencies.\n");
  console.log(renderTable(rows));
  const p2pTable = renderP2PTable(rows);
  if (p2pTable) console.log(`\n${p2pTable}`);
  const cpuTable = renderCpuTable(rows);
  if (cpuTable) console.log(`\n${cpuTable}`);
  if (notes) console.log(`\n${notes}`);
  console.log(`\n${renderGoals(goals)}`);

  if (args.out) {
    writeFileSync(args.out, `${JSON.stringify({ startedAt: startedAt.toISOString(), env, rows, goals }, null, 2)}\n`);
    log(`results written to ${args.out}`);
  }
  for (const close of closeAfterOutput) {
    try {
      close();
    } catch {
      /* wrtc throws on some double closes; the process exits next anyway */
    }
  }
  return rows.some((r) => r.status === 'failed') ? 1 : 0;
}
