#!/usr/bin/env node
/**
 * Where a relay row's CPU goes per small request: the row's processes run
 * under `node --cpu-prof`, one keep-alive connection sends sequential 1 KiB
 * GETs, and each process's profile, cut to the
 * measured requests, is summed by function and by file, in µs of CPU per
 * request (self time; idle left out).
 *
 *   node scripts/bench/cpu-profile.mjs [--rows wingmanRelay,muxFloor,p2pNode] [--requests 5000] [--top 15] [--keep DIR]
 *
 * p2pNode: the same GETs from the project's Node viewer over a data channel to
 * the agent's P2P host process (rows/p2p-profile.mjs), whose profile is listed
 * with the agent's children. Diagnostic, not part of `npm test`. On 127.0.0.1:
 * in the caller's network namespace, or with p2pNode in a loopback-only one it
 * enters (lib/netns.mjs). Profiling itself costs CPU: compare rows of one run,
 * not these figures with the bench's CPU per request.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSequentialGetter } from './measure/sequential-get.mjs';
import { killAllChildren, killChildrenOnExit, setChildNodeOptions } from './lib/children.mjs';
import { insideLoopbackNamespace, reexecInNamespace } from './lib/netns.mjs';
import { localtunnelRow } from './rows/localtunnel.mjs';
import { muxFloorRow } from './rows/mux-floor.mjs';
import { p2pProfileRow } from './rows/p2p-profile.mjs';
import { tcpPipesRow } from './rows/tcp-pipes.mjs';
import { wingmanRelayRow } from './rows/wingman-relay.mjs';

const ROWS = [wingmanRelayRow, muxFloorRow, localtunnelRow, tcpPipesRow, p2pProfileRow];
const WARMUP_REQUESTS = 500;
/** Source maps by the file they map (null: none): the bundled programs' (scripts/bundle-bins.mjs) and tsc's. */
const maps = new Map();
/**
 * Native stream-write bindings: the write(2)/writev(2) syscall, which on
 * loopback also runs the receiver's TCP input. The profiler samples wall-clock
 * time, so a process that waited for a CPU shows that wait on the syscall it
 * returned from: on a busy machine this part grows far more than JavaScript.
 */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writeUcs2String']);
const MAX_REQUESTS = 100_000;
const MAX_TOP = 100;
/** A P2P host process ends at most this long after its agent (EXIT_AFTER_CLOSE_MS in host-process.ts, and its profile's write). */
const HOST_EXIT_WAIT_MS = 10_000;
const HOST_EXIT_POLL_MS = 50;

killChildrenOnExit((msg) => console.error(`[cpu-profile] ${msg}`));

let args;
try {
  args = parseArgs({
    options: {
      rows: { type: 'string', default: 'wingmanRelay,muxFloor' },
      requests: { type: 'string', default: '5000' },
      top: { type: 'string', default: '15' },
      keep: { type: 'string' },
    },
  }).values;
} catch (err) {
  console.error(`[cpu-profile] ${err.message}`);
  process.exit(2);
}
const requests = Number(args.requests);
const top = Number(args.top);
const rows = args.rows.split(',').map((id) => ROWS.find((r) => r.id === id.trim()));
if (rows.includes(undefined) || !Number.isInteger(requests) || requests < 1 || requests > MAX_REQUESTS || !Number.isInteger(top) || top < 1 || top > MAX_TOP) {
  console.error(`[cpu-profile] --rows from ${ROWS.map((r) => r.id).join(',')}; --requests 1-${MAX_REQUESTS}; --top 1-${MAX_TOP}`);
  process.exit(2);
}

if (rows.includes(p2pProfileRow) && !insideLoopbackNamespace()) {
  process.exit(await reexecInNamespace(fileURLToPath(import.meta.url), process.argv.slice(2)));
}

const profileRoot = args.keep ?? mkdtempSync(join(tmpdir(), 'wingman-cpu-profile-'));
const { get, close: closeGetter } = createSequentialGetter();
/** CLOCK_MONOTONIC in µs: the clock V8 stamps profile samples with. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

try {
  for (const row of rows) {
    const reason = row.unavailable();
    if (reason) throw new Error(`${row.label}: ${reason}`);
    const dir = join(profileRoot, row.id);
    // Every process of the row writes a profile when it exits.
    setChildNodeOptions(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const target = await row.start();
    setChildNodeOptions([]);
    const one = target.get ?? (() => get(target));
    for (let i = 0; i < WARMUP_REQUESTS; i++) await one();
    const from = nowUs();
    for (let i = 0; i < requests; i++) await one();
    const to = nowUs();
    closeGetter();
    const hostPids = target.hostPids?.() ?? [];
    target.close?.();
    // With --keep: the measured window (CLOCK_MONOTONIC µs, as the profiles' timestamps) beside the profiles.
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'window.json'), `${JSON.stringify({ from, to, requests })}\n`);
    const pids = new Map([...target.procs.map((p) => [p.child.pid, p.name]), ...hostPids.map((pid) => [pid, `P2P host (pid ${pid}, the agent's child)`])]);
    for (const p of target.procs) await p.kill();
    await exited(hostPids);
    console.log(`\n${row.label}: ${requests} sequential 1 KiB GETs, wall ${((to - from) / requests).toFixed(0)} µs/req`);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
      const pid = Number(file.split('.')[3]);
      const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), from, to, requests, top);
      const name = pids.get(pid) ?? `pid ${pid} (started by a process of the row)`;
      console.log(
        `\n  ${name}: ${summary.totalUs.toFixed(0)} µs/req of CPU (self time, idle left out), of which ${summary.writesUs.toFixed(0)} in socket writes`,
      );
      for (const [name, us] of summary.byFile) console.log(`    ${us.toFixed(1).padStart(6)}  file ${name}`);
      for (const [name, us] of summary.byFunction) console.log(`    ${us.toFixed(1).padStart(6)}  ${name}`);
    }
  }
} catch (err) {
  console.error(`[cpu-profile] ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await killAllChildren();
  if (!args.keep) rmSync(profileRoot, { recursive: true, force: true });
}
// wrtc (the P2P row's viewer, in this process) keeps native handles alive after close: the run is over.
if (rows.includes(p2pProfileRow)) process.exit();

/** Resolves once none of `pids` is alive any more, or after HOST_EXIT_WAIT_MS (their profiles are then missing). */
async function exited(pids) {
  const deadline = Date.now() + HOST_EXIT_WAIT_MS;
  while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, HOST_EXIT_POLL_MS));
}

/**
 * Self time per function and per file of the samples taken in [from, to].
 * @param {{ nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>, samples: number[], timeDeltas: number[], startTime: number }} profile
 */
function summarize(profile, from, to, requests, n) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map();
  const byFile = new Map();
  let total = 0;
  let writes = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // A sample's delta is the time since the previous one: charge it to this sample.
    if (t < from || t > to) continue;
    const cf = nodes.get(profile.samples[i]);
    if (!cf || cf.functionName === '(idle)') continue;
    const dt = profile.timeDeltas[i];
    const { file, line } = sourceOf(cf);
    const fn = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${line}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    byFile.set(file || cf.functionName, (byFile.get(file || cf.functionName) ?? 0) + dt);
    total += dt;
    if (SOCKET_WRITES.has(cf.functionName) && !cf.url) writes += dt;
  }
  const topOf = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, v / requests]);
  return { totalUs: total / requests, writesUs: writes / requests, byFunction: topOf(byFunction), byFile: topOf(byFile) };
}

/**
 * A frame's file and line (1-based) in the source, through the map beside its file when there is one:
 * in a bundle, the module the code came from.
 * @param {{ url: string, lineNumber: number, columnNumber: number }} cf
 */
function sourceOf(cf) {
  const path = cf.url.startsWith('file://') ? fileURLToPath(cf.url) : cf.url;
  if (!maps.has(path)) maps.set(path, existsSync(`${path}.map`) ? new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))) : null);
  const entry = maps.get(path)?.findEntry(cf.lineNumber, cf.columnNumber);
  if (!entry?.originalSource) return { file: shortUrl(cf.url), line: cf.lineNumber + 1 };
  return { file: shortUrl(resolve(dirname(path), entry.originalSource)), line: entry.originalLine + 1 };
}

/** node:internal names stay; file URLs lose everything up to the package or node_modules directory. */
function shortUrl(url) {
  if (!url) return '';
  const m = /\/(packages\/[^/]+\/.*|node_modules\/.*|scripts\/.*)$/.exec(url);
  return m ? m[1].replace(/^node_modules\//, '') : url;
}
