#!/usr/bin/env node
/**
 * `npm run lab` — the network lab (docs/lab.md). As root: for each
 * scenario, network namespaces joined by veth pairs in 10.231.0.0/16 (NAT,
 * firewalls, coturn), Wingman's real processes, headless Chromium as the
 * reviewer; prints what carried the app and how fast. Nothing is connected
 * to the caller's namespace; everything is torn down at the end, on failure,
 * and on SIGINT/SIGTERM.
 *
 *   npm run lab                         the six scenarios, the delay-line check, far-server (P2P), as a table
 *   npm run lab -- --json               one JSON array on stdout (progress on stderr)
 *   npm run lab -- --only lan,cone-nat  a subset
 *   npm run lab -- --download-mib 20    each scenario's bulk download that size instead of 50 MiB (the CI suite's run)
 *   npm run lab -- --wan                the WAN comparison: every WAN scenario in every mode (minutes; not in CI)
 *   npm run lab -- --wan --only far-server   one WAN scenario in every mode
 *   npm run lab -- --wan --only far-server --modes p2p,relay-only   some of its modes
 *   npm run lab -- --wan --only far-server --repeat 3   each mode 3 times, interleaved; table and goals from medians
 *   npm run lab -- --wan --only far-server --udp-rcvbuf 4194304   every UDP socket's receive buffer request raised (an experiment: udp-rcvbuf/)
 *   npm run lab -- --wan --only far-server --pin-cpus   the reviewer on one CPU, everything else on another (an experiment: cpu-pin.mjs)
 *   npm run lab -- --wan --modes p2p,p2p-ab,relay-only --ab "P2P_LOSS_PROBE=false" --rows-only --repeat 5   an on/off A/B (ab-mode.mjs)
 *   npm run lab -- --tuning             ICE give-up measurements (minutes; not in CI)
 *   npm run lab -- --cleanup            only remove namespaces left by killed runs
 * Exit code: 0 when every check of every scenario passed, 1 otherwise, 2 when the lab cannot run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { abMode, parseAbEnv, rowsOnly } from './ab-mode.mjs';
import { runDelayCheck } from './delay-check.mjs';
import { createTestCa } from '../lib/test-ca.cjs';
import { compileDelayLine } from './delay-line.mjs';
import { PIN_CPUS_ENV, pinProblem } from './cpu-pin.mjs';
import { parseRcvbufBytes, preloadUdpRcvbuf } from './udp-rcvbuf/udp-rcvbuf.mjs';
import { cleanupPrefix, cleanupStaleRuns, runPrefix } from './netns.mjs';
import { cCompiler, labProblems } from './prereqs.mjs';
import { formatDetails, formatTable, formatWanGoals, formatWanTable, judgeWanGoals } from './report.mjs';
import { medianRows } from './repeats.mjs';
import { formatTransportLines } from './transport-report.mjs';
import { runScenario } from './run-scenario.mjs';
import { DOWNLOAD_BYTES, SCENARIOS, TUNING_SCENARIOS, WAN_MODES, WAN_SCENARIOS } from './scenarios.mjs';

const MiB = 1024 * 1024;
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    modes: { type: 'string' },
    tuning: { type: 'boolean', default: false },
    wan: { type: 'boolean', default: false },
    cleanup: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    'udp-rcvbuf': { type: 'string' },
    'pin-cpus': { type: 'boolean', default: false },
    ab: { type: 'string' },
    'rows-only': { type: 'boolean', default: false },
    'download-mib': { type: 'string', default: String(DOWNLOAD_BYTES / MiB) },
  },
});

const prefix = runPrefix();
/** The delay-line check's name in `--only` and in the output. */
const DELAY_CHECK = 'delay-line';
/** Its address block: the last one (scenarios take 0-13). */
const DELAY_CHECK_INDEX = 15;
const log = (s) => {
  if (!values.quiet) process.stderr.write(`[lab] ${s}\n`);
};

// Clean-up is synchronous (netns.mjs) so that it also runs from these handlers.
let cleaned = false;
/** This run's build directory (the compiled delay line). */
let buildDir = null;
/** This run's lab CA (its key, certificates and the reviewer's NSS database). */
let ca = null;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  const problems = cleanupPrefix(prefix);
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  ca?.remove();
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
  const problems = labProblems({ wan: values.wan });
  if (problems.length > 0) {
    process.stderr.write(`[lab] cannot run the network lab:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }
  const stale = cleanupStaleRuns();
  if (stale.length > 0) log(`removed ${stale.length} namespaces left by earlier runs`);
  if (values.cleanup) return 0;

  // The index fixes a scenario's address block, so a scenario always has the same addresses.
  const all = [...SCENARIOS, ...WAN_SCENARIOS, ...TUNING_SCENARIOS];
  let selected = values.tuning ? TUNING_SCENARIOS : values.wan ? WAN_SCENARIOS : [...SCENARIOS, ...WAN_SCENARIOS.filter((s) => s.ci)];
  let delayCheck = !values.tuning;
  if (values.only) {
    const names = values.only.split(',').map((s) => s.trim());
    const unknown = names.filter((n) => n !== DELAY_CHECK && !all.some((s) => s.name === n));
    if (unknown.length > 0) {
      process.stderr.write(`[lab] unknown scenario(s) ${unknown.join(', ')}; known: ${[...all.map((s) => s.name), DELAY_CHECK].join(', ')}\n`);
      return 2;
    }
    selected = all.filter((s) => names.includes(s.name));
    delayCheck = names.includes(DELAY_CHECK);
  }
  // --ab: the p2p mode again with other settings, right after p2p (ab-mode.mjs).
  let wanModes = WAN_MODES;
  if (values.ab !== undefined) {
    let env;
    try {
      if (!values.wan) throw new Error('--ab needs --wan');
      env = parseAbEnv(values.ab);
    } catch (err) {
      process.stderr.write(`[lab] ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    wanModes = [WAN_MODES[0], abMode(env), ...WAN_MODES.slice(1)];
  }
  // WAN scenarios: every mode with --wan (or those of --modes), P2P only otherwise.
  let modes = values.wan ? wanModes : wanModes.slice(0, 1);
  if (values.modes) {
    const names = values.modes.split(',').map((s) => s.trim());
    const unknown = names.filter((n) => !wanModes.some((m) => m.mode === n));
    if (unknown.length > 0 || !values.wan) {
      process.stderr.write(
        `[lab] --modes needs --wan and modes among ${wanModes.map((m) => m.mode).join(', ')}${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}\n`,
      );
      return 2;
    }
    modes = wanModes.filter((m) => names.includes(m.mode));
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 9 || (repeat > 1 && !values.wan)) {
    process.stderr.write(`[lab] --repeat needs --wan and a whole number from 1 to 9, got "${values.repeat}"\n`);
    return 2;
  }
  const downloadMiB = Number(values['download-mib']);
  if (!Number.isInteger(downloadMiB) || downloadMiB < 1 || downloadMiB > DOWNLOAD_BYTES / MiB) {
    process.stderr.write(`[lab] --download-mib needs a whole number from 1 to ${DOWNLOAD_BYTES / MiB}, got "${values['download-mib']}"\n`);
    return 2;
  }
  const downloadBytes = downloadMiB * MiB;
  const once = selected.flatMap((scenario) => {
    const index = all.indexOf(scenario);
    if (!scenario.wan) return [{ index, scenario }];
    // The WAN comparison serves the generated Vite React app (HMR measured); the default run keeps the quick fixture app.
    const base = values['rows-only'] ? rowsOnly(scenario) : scenario;
    return modes.map((m) => ({ index, scenario: m.apply(values.wan ? { ...base, app: 'vite' } : base) }));
  });
  // Interleaved: every run once, then every run again (a slow spell of the machine hits all modes alike).
  const runs = Array.from({ length: repeat }, () => once).flat();
  let delayLine;
  if (delayCheck || runs.some((r) => r.scenario.wan) || values['udp-rcvbuf']) {
    buildDir = mkdtempSync(join(tmpdir(), 'wmlab-build-'));
    delayLine = compileDelayLine(buildDir, /** @type {string} */ (cCompiler()));
  }
  // An experiment on the lab's own processes (udp-rcvbuf/udp-rcvbuf.mjs): every UDP socket's receive buffer request raised.
  if (values['udp-rcvbuf'] && buildDir) {
    const bytes = parseRcvbufBytes(values['udp-rcvbuf']);
    preloadUdpRcvbuf({ dir: buildDir, compiler: /** @type {string} */ (cCompiler()), bytes, env: process.env });
    log(`UDP sockets' receive buffer requests raised to ${bytes} bytes in every process of this run (LD_PRELOAD)`);
  }

  // An experiment on how the run shares the machine (cpu-pin.mjs): the reviewer on one CPU, the rest on another.
  if (values['pin-cpus']) {
    const problem = pinProblem(availableParallelism(), spawnSync('taskset', ['-V']).status === 0);
    if (problem) {
      process.stderr.write(`[lab] ${problem}\n`);
      process.exit(2);
    }
    process.env[PIN_CPUS_ENV] = '1';
    log('pinned: the reviewer on CPU 0, the dev, the server and their delay lines on CPU 1 (taskset)');
  }

  // One CA per run: it signs each scenario's server certificate; the reviewer's Chromium trusts it (NSS).
  if (runs.length > 0) ca = createTestCa({ name: 'Wingman lab CA' });
  const rows = [];
  if (delayCheck) {
    const row = await runDelayCheck({ prefix, index: DELAY_CHECK_INDEX, binary: /** @type {string} */ (delayLine), log });
    log(`${DELAY_CHECK}: ${row.ok ? 'ok' : `FAILED (${row.failed.join(', ')})`}${row.error ? `; ${row.error}` : ''}`);
    rows.push(row);
  }
  for (const { index, scenario } of runs) {
    const name = scenario.mode ? `${scenario.name} [${scenario.mode}]` : scenario.name;
    log(`${name}: ${scenario.title}`);
    const row = await runScenario({ prefix, index, scenario, ca, delayLine, downloadBytes, log });
    log(
      `${name}: ${row.ok ? 'ok' : `FAILED (${row.failed.join(', ')})`} — transport ${row.transport}, first byte ${row.firstByteMs} ms, P2P ${row.p2pReadyMs ?? '—'} ms${row.p2pHostCrashes ? `, the agent's P2P host crashed ${row.p2pHostCrashes}×` : ''}, ${(row.durationMs / 1000).toFixed(1)} s${row.error ? `; ${row.error.split('\n')[0]}` : ''}`,
    );
    rows.push(row);
  }
  cleanup();

  const scenarioRows = rows.filter((r) => r.kind !== 'delay-check');
  const wanRuns = scenarioRows.filter((r) => r.mode);
  const wanRows = repeat > 1 ? medianRows(wanRuns) : wanRuns;
  const goals = wanRows.length > 0 ? judgeWanGoals(wanRows) : [];
  if (values.json) {
    // The WAN comparison adds one `goals` entry (speed goals are reported, never part of `ok`).
    // With --repeat, the WAN rows are the medians (each with its runs' figures in `samples`).
    const reported = repeat > 1 ? [...rows.filter((r) => !r.mode), ...wanRows] : rows;
    const out = values.wan ? [...reported, { kind: 'goals', scenario: 'goals', ok: true, goals }] : reported;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    const out = scenarioRows.length > 0 ? [formatTable(scenarioRows, downloadMiB)] : [];
    if (repeat > 1) out.push(`WAN rows below: medians of ${repeat} interleaved runs each (every run's figures in --json as \`samples\`)`);
    if (wanRows.length > 0) out.push(formatWanTable(wanRows), formatTransportLines(wanRows), formatWanGoals(goals));
    out.push(formatDetails(rows));
    out.push(
      `load average (1, 5, 15 min) at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')}`,
    );
    process.stdout.write(`\n${out.join('\n\n')}\n`);
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}
