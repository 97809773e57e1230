#!/usr/bin/env node
/**
 * CPU time each process spends per small request, for the HTTP rows of the
 * bench (direct, wingman relay, localtunnel, two bare TCP pipes, mux floor):
 *
 *   node scripts/bench/cpu-per-request.mjs [--requests 4000] [--rounds 2]
 *
 * One keep-alive connection sends sequential 1 KiB GETs; before and after,
 * the children's utime+stime are read from /proc/<pid>/stat. CPU per request
 * moves far less with the machine's load than req/s or latency do, so it is
 * the figure to compare before and after a change to the per-request path
 * (and it shows which process a row's time goes to). Not part of `npm test`.
 * Everything is on 127.0.0.1 and nothing here uses WebRTC, so it runs in the
 * caller's network namespace: /proc must show the children's real pids
 * (the bench's namespace also has its own pid namespace).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createSequentialGetter } from './measure/sequential-get.mjs';
import { killAllChildren, killAllChildrenNow } from './lib/children.mjs';
import { directRow } from './rows/direct.mjs';
import { localtunnelRow } from './rows/localtunnel.mjs';
import { muxFloorRow } from './rows/mux-floor.mjs';
import { tcpPipesRow } from './rows/tcp-pipes.mjs';
import { wingmanRelayRow } from './rows/wingman-relay.mjs';

/** Requests before each measured batch (JIT, connection set-up). */
const WARMUP_REQUESTS = 300;
/** /proc/<pid>/stat counts CPU in clock ticks (USER_HZ, 100 on Linux). */
const MICROS_PER_TICK = 10_000;
const MAX_REQUESTS = 100_000;
const MAX_ROUNDS = 10;

process.on('exit', killAllChildrenNow);

let args;
try {
  args = parseArgs({ options: { requests: { type: 'string', default: '4000' }, rounds: { type: 'string', default: '2' } } }).values;
} catch (err) {
  console.error(`[cpu] ${err.message}`);
  process.exit(2);
}
const requests = Number(args.requests);
const rounds = Number(args.rounds);
if (!Number.isInteger(requests) || requests < 1 || requests > MAX_REQUESTS || !Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
  console.error(`[cpu] --requests must be 1-${MAX_REQUESTS} and --rounds 1-${MAX_ROUNDS}`);
  process.exit(2);
}

const ticks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime
};
const { get } = createSequentialGetter();

try {
  const started = [];
  for (const row of [directRow, wingmanRelayRow, localtunnelRow, tcpPipesRow, muxFloorRow]) {
    const reason = row.unavailable();
    if (reason) throw new Error(`${row.label}: ${reason}`);
    started.push({ row, target: await row.start() });
  }
  console.log(`CPU µs per 1 KiB GET (${requests} sequential requests on one keep-alive connection, after ${WARMUP_REQUESTS} warm-up)`);
  for (let round = 1; round <= rounds; round++) {
    console.log(`\nround ${round}`);
    for (const { row, target } of started) {
      for (let i = 0; i < WARMUP_REQUESTS; i++) await get(target);
      const pids = target.procs.map((p) => p.child.pid);
      const before = pids.map(ticks);
      const client0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < requests; i++) await get(target);
      const wallUs = ((performance.now() - t0) * 1000) / requests;
      const client = process.cpuUsage(client0);
      const per = pids.map((pid, i) => ((ticks(pid) - before[i]) * MICROS_PER_TICK) / requests);
      const total = per.reduce((a, b) => a + b, 0);
      const parts = target.procs.map((p, i) => `${p.name} ${per[i].toFixed(0)}`).join(', ');
      console.log(
        `${row.label.padEnd(20)} wall ${wallUs.toFixed(0).padStart(5)} µs/req | tunnel+app CPU ${total.toFixed(0).padStart(5)} µs/req: ${parts} | load client ${((client.user + client.system) / requests).toFixed(0)}`,
      );
    }
  }
} catch (err) {
  console.error(`[cpu] ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await killAllChildren();
}
