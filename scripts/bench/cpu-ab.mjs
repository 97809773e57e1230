#!/usr/bin/env node
/**
 * CPU per relayed 1 KiB GET of two builds of the relay, A (a copy of the
 * repository built from the code before a change) against B (this one),
 * measured interleaved:
 *
 *   node scripts/bench/cpu-ab.mjs --base /tmp/wingman-base [--requests 2000] [--rounds 6] [--batch 100]
 *
 * Each build runs its own tunnel server and agent in front of its own target
 * app. The requests alternate between them in batches of `--batch` (the
 * order flips every batch), so both see the same load on a shared machine;
 * each process's CPU is read from /proc/<pid>/task/<tid>/schedstat (ns, all
 * threads) around each batch. Per round it prints B ÷ A for the agent and
 * the server: where rows measured one after another (as the bench's CPU per
 * request at c=1) moved by ±30 % on a busy 2-core VM, two identical builds
 * measured so stay within about ±10 % a round, so a change is worth keeping
 * when B ÷ A stays below the ratios' spread. Diagnostic, not part of
 * `npm test`; on 127.0.0.1 in the caller's network namespace.
 *
 * The base copy: `git worktree add /tmp/wingman-base main`, then
 * `npm ci && npm run build` there (or copy a built checkout).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSequentialGetter } from './measure/sequential-get.mjs';
import { killAllChildren, killChildrenOnExit, spawnNode } from './lib/children.mjs';
import { AGENT_BIN, ROOT, SERVER_BIN, START_TIMEOUT_MS } from './lib/config.mjs';
import { cpuNs } from './lib/proc.mjs';
import { startTargetApp } from './rows/target.mjs';

const WARMUP_REQUESTS = 500;
const MAX_REQUESTS = 100_000;
const MAX_ROUNDS = 20;

killChildrenOnExit((msg) => console.error(`[cpu-ab] ${msg}`));

let args;
try {
  args = parseArgs({
    options: {
      base: { type: 'string' },
      requests: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '6' },
      batch: { type: 'string', default: '100' },
    },
  }).values;
} catch (err) {
  console.error(`[cpu-ab] ${err.message}`);
  process.exit(2);
}
const [requests, rounds, batch] = [args.requests, args.rounds, args.batch].map(Number);
const base = args.base === undefined ? undefined : resolve(args.base);
const bins = (root) => [SERVER_BIN, AGENT_BIN].map((bin) => resolve(root, bin.slice(ROOT.length + 1)));
if (
  base === undefined ||
  bins(base).some((bin) => !existsSync(bin)) ||
  ![requests, rounds, batch].every(Number.isInteger) ||
  requests < 1 ||
  requests > MAX_REQUESTS ||
  rounds < 1 ||
  rounds > MAX_ROUNDS ||
  batch < 1 ||
  batch > requests
) {
  console.error(`[cpu-ab] --base <a built copy of the repository> is required; --requests 1-${MAX_REQUESTS}, --rounds 1-${MAX_ROUNDS}, --batch 1-requests`);
  process.exit(2);
}

/** Target app, tunnel server and agent of the build at `root`. */
async function startBuild(label, root) {
  const [serverBin, agentBin] = bins(root);
  const app = await startTargetApp();
  const server = spawnNode(`${label} server`, [serverBin, '--port', '0', '--json'], { env: { LOG_LEVEL: 'warn' } });
  const listening = await server.waitEvent('listening', START_TIMEOUT_MS);
  const agent = spawnNode(`${label} agent`, [agentBin, 'http', String(app.port), '--server', String(listening.url), '--json', '--new-session'], {
    env: { WINGMAN_PUBLIC: '1' },
  });
  const ready = await agent.waitEvent('ready', START_TIMEOUT_MS);
  return { label, target: { port: Number(listening.port), host: new URL(String(ready.url)).host }, agent, server };
}

const { get, close } = createSequentialGetter();
const fmt = (xs, digits) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[s.length >> 1].toFixed(digits)} (${s[0].toFixed(digits)}–${s[s.length - 1].toFixed(digits)})`;
};

try {
  const builds = [await startBuild('A', base), await startBuild('B', ROOT)];
  for (const b of builds) for (let i = 0; i < WARMUP_REQUESTS; i++) await get(b.target);
  const perRound = builds.map(() => ({ agent: [], server: [] }));
  console.log(`CPU µs per 1 KiB GET, A = ${base}, B = ${ROOT}: ${rounds} rounds of ${requests} requests each, interleaved in batches of ${batch}`);
  for (let round = 0; round < rounds; round++) {
    const sum = builds.map(() => ({ agent: 0, server: 0 }));
    for (let n = 0; n * batch < requests; n++) {
      const order = n % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const { target, agent, server } = builds[i];
        const a0 = cpuNs(agent.child.pid);
        const s0 = cpuNs(server.child.pid);
        for (let k = 0; k < batch; k++) await get(target);
        sum[i].agent += cpuNs(agent.child.pid) - a0;
        sum[i].server += cpuNs(server.child.pid) - s0;
      }
    }
    const sent = Math.ceil(requests / batch) * batch;
    sum.forEach((s, i) => {
      perRound[i].agent.push(s.agent / 1000 / sent);
      perRound[i].server.push(s.server / 1000 / sent);
    });
    const ratio = (key) => (perRound[1][key][round] / perRound[0][key][round]).toFixed(2);
    console.log(
      `round ${round + 1}: agent A ${perRound[0].agent[round].toFixed(0)} B ${perRound[1].agent[round].toFixed(0)} (B÷A ${ratio('agent')}), server A ${perRound[0].server[round].toFixed(0)} B ${perRound[1].server[round].toFixed(0)} (B÷A ${ratio('server')})`,
    );
  }
  for (const key of ['agent', 'server']) {
    const ratios = perRound[1][key].map((b, r) => b / perRound[0][key][r]);
    console.log(`${key}: A ${fmt(perRound[0][key], 0)} µs, B ${fmt(perRound[1][key], 0)} µs, B÷A ${fmt(ratios, 2)}`);
  }
} catch (err) {
  console.error(`[cpu-ab] ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  close();
  await killAllChildren();
}
