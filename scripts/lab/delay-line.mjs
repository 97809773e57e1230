/**
 * The lab's WAN delay line (delay-line/delay-line.c): compiled once per run
 * with the machine's C compiler, then one process per namespace that needs
 * delay. This kernel has no netem, so delay, jitter and loss are applied in
 * userspace: the namespace's own outgoing packets are routed into a TUN
 * device (`ip rule add iif lo lookup DELAY_TABLE`: `iif lo` matches
 * locally generated packets only), the program holds each one for its
 * rule's delay and writes it back, and the packet leaves by the main table.
 *
 * Why at the endpoints and not in the NAT routers: a packet that crosses a
 * router twice (LAN → TUN → WAN) is tracked by conntrack on its first pass,
 * so MASQUERADE, which only sees a connection's first packet, never applies
 * on the second. Delaying each endpoint's egress by destination gives the
 * same per-pair latencies and leaves the routers' NAT untouched.
 *
 * The process runs inside its namespace, so tearing the namespace down
 * (netns.mjs destroyNamespaces) ends it, and its TUN device goes with it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ip, sysctl } from './netns.mjs';
import { startInNamespace } from './proc.mjs';
import { ROOT } from './stack.mjs';

const SOURCE = join(ROOT, 'scripts/lab/delay-line/delay-line.c');
/** The TUN device's name in every namespace that has one. */
const DEV = 'wmdelay';
/** Routing table for locally generated packets (any number the namespace does not use). */
const DELAY_TABLE = '100';
/** Rule priority: after `local` (0), before `main` (32766). */
const DELAY_RULE_PREF = '100';
/** gcc compiles the 300-line program in well under a second; 60 s covers a loaded machine. */
const COMPILE_TIMEOUT_MS = 60_000;
/** The program creates its device at once. */
const START_TIMEOUT_MS = 10_000;

/** The C compilers the lab looks for, in order. */
export const C_COMPILERS = ['cc', 'gcc'];

/**
 * Compiles the delay line into `dir`.
 * @param {string} dir a directory of this run
 * @param {string} compiler
 * @returns {string} the binary's path
 */
export function compileDelayLine(dir, compiler) {
  const out = join(dir, 'delay-line');
  const r = spawnSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, SOURCE], { encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`${compiler} could not compile ${SOURCE}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return out;
}

/**
 * @typedef {object} DelayRule
 * @property {string} dst destination prefix (CIDR)
 * @property {'server' | 'reviewer' | 'dev'} to whose address it is (names the rule's counters)
 * @property {number} delayMs one-way delay added to matching packets
 * @property {number} [jitterMs] uniform extra delay in [0, jitterMs)
 * @property {number} [lossPct] share of matching packets dropped
 */

/** The command-line form of a rule. */
export function ruleArg(rule) {
  const parts = [`dst=${rule.dst}`, `delay=${rule.delayMs}`];
  if (rule.jitterMs) parts.push(`jitter=${rule.jitterMs}`);
  if (rule.lossPct) parts.push(`loss=${rule.lossPct}`);
  return parts.join(',');
}

/**
 * @typedef {object} RunningDelayLine
 * @property {import('./proc.mjs').LabProcess} process
 * @property {number} pid the program's own pid (SIGUSR1 writes its counters to `statsFile`)
 * @property {string} statsFile
 */

/**
 * Starts a delay line in `ns` and routes the namespace's own outgoing
 * packets through it. Packets no rule matches pass without delay.
 * @param {{ ns: string, binary: string, rules: DelayRule[], srcIp: string, seed: number, statsFile: string }} options
 *   srcIp: the address locally generated packets carry (the route's `src`)
 *   statsFile: where the program writes its counters on SIGUSR1 (delay-line-counters.mjs reads them)
 * @returns {Promise<RunningDelayLine>}
 */
export async function startDelayLine({ ns, binary, rules, srcIp, seed, statsFile }) {
  const args = ['--dev', DEV, '--seed', String(seed), '--stats', statsFile, ...rules.flatMap((r) => ['--rule', ruleArg(r)])];
  const proc = startInNamespace({ name: `delay-line(${ns})`, ns, command: binary, args });
  const ready = await proc.waitFor((e) => e.event === 'ready', START_TIMEOUT_MS, 'ready');
  // Packets written back enter on the TUN device with one of our own addresses as source:
  // accept them (accept_local), do not check their source against the route back (rp_filter),
  // and forward them (they are not for us).
  sysctl(ns, 'net.ipv4.ip_forward', 1);
  for (const dev of ['all', DEV]) {
    sysctl(ns, `net.ipv4.conf.${dev}.accept_local`, 1);
    sysctl(ns, `net.ipv4.conf.${dev}.rp_filter`, 0);
  }
  ip('-n', ns, 'link', 'set', DEV, 'up');
  ip('-n', ns, 'route', 'add', 'default', 'dev', DEV, 'src', srcIp, 'table', DELAY_TABLE);
  ip('-n', ns, 'rule', 'add', 'iif', 'lo', 'lookup', DELAY_TABLE, 'pref', DELAY_RULE_PREF);
  return { process: proc, pid: Number(ready.pid), statsFile };
}
