/**
 * WAN conditions for a scenario: a round-trip time, jitter and loss per
 * pair of endpoints (reviewer↔server, developer↔server, reviewer↔developer),
 * turned into delay-line rules at each endpoint's egress (delay-line.mjs):
 * each direction gets half the RTT, the jitter and the loss. The "server"
 * end is the public namespace: the tunnel server and coturn, so a TURN path
 * pays reviewer↔server plus server↔developer, as TURN next to the server does.
 * Optionally a rate limit per host (`tbf`, both directions of its access link).
 */
import { join } from 'node:path';
import { inNs } from './netns.mjs';
import { startDelayLine } from './delay-line.mjs';

/** tbf's bucket: 64 KiB lets a burst of ~40 full packets through at line rate (what a modem queue does). */
const TBF_BURST = '64kb';
/** tbf's queue bound as a wait: past this, packets are dropped (a modem buffer of this depth). */
const TBF_LATENCY = '100ms';

/**
 * @typedef {object} PathSpec
 * @property {number} rttMs round-trip time added between the two ends
 * @property {number} [jitterMs] per direction: uniform extra delay in [0, jitterMs)
 * @property {number} [lossPct] per direction: share of packets dropped
 * @typedef {object} WanSpec
 * @property {PathSpec} reviewerServer
 * @property {PathSpec} devServer
 * @property {PathSpec} reviewerDev
 * @property {{ dev?: number, reviewer?: number }} [rateMbit] access link rate per host (tbf)
 */

const half = (path) => ({ delayMs: path.rttMs / 2, jitterMs: path.jitterMs ?? 0, lossPct: path.lossPct ?? 0 });
const same = (a, b) => a.rttMs === b.rttMs && (a.jitterMs ?? 0) === (b.jitterMs ?? 0) && (a.lossPct ?? 0) === (b.lossPct ?? 0);

/**
 * Delay-line rules per namespace. A host is reached at its own address, or
 * (behind NAT) at its router's WAN address: both get the rule.
 * @param {import('./topology.mjs').Topology} t
 * @param {WanSpec} wan
 * @returns {Array<{ role: 'server' | 'reviewer' | 'dev', ns: string, srcIp: string, rules: import('./delay-line.mjs').DelayRule[] }>}
 */
export function wanRules(t, wan) {
  const addressesOf = (role) => [...new Set([t.hostIp[role], t.wanIp[role]])];
  const toHost = (role, path, exclude = []) =>
    addressesOf(role)
      .filter((a) => !exclude.includes(a))
      .map((a) => ({ dst: `${a}/32`, to: role, ...half(path) }));
  if (t.wanIp.dev === t.wanIp.reviewer && !same(wan.reviewerServer, wan.devServer)) {
    throw new Error('dev and reviewer share a router (one public address): their paths to the server must be the same');
  }
  const server = [...toHost('reviewer', wan.reviewerServer), ...toHost('dev', wan.devServer)];
  const dedup = (rules) => rules.filter((r, i) => rules.findIndex((x) => x.dst === r.dst) === i);
  return [
    { role: 'server', ns: t.publicNs, srcIp: t.publicIp, rules: dedup(server) },
    // A host's own router's WAN address is not a way to its peer (no hairpin rule).
    {
      role: 'reviewer',
      ns: t.ns.reviewer,
      srcIp: t.hostIp.reviewer,
      rules: [{ dst: `${t.publicIp}/32`, to: 'server', ...half(wan.reviewerServer) }, ...toHost('dev', wan.reviewerDev, [t.wanIp.reviewer])],
    },
    {
      role: 'dev',
      ns: t.ns.dev,
      srcIp: t.hostIp.dev,
      rules: [{ dst: `${t.publicIp}/32`, to: 'server', ...half(wan.devServer) }, ...toHost('reviewer', wan.reviewerDev, [t.wanIp.dev])],
    },
  ];
}

/**
 * Starts the delay lines (and rate limits) of a scenario.
 * @param {{ topology: import('./topology.mjs').Topology, wan: WanSpec, binary: string, dir: string }} options
 *   dir: a directory of this scenario (each delay line's counters file)
 * @returns {Promise<{ processes: import('./proc.mjs').LabProcess[], delayLines: import('./phase-counters.mjs').CountedDelayLine[] }>}
 */
export async function applyWan({ topology, wan, binary, dir }) {
  const processes = [];
  const delayLines = [];
  try {
    let seed = 1;
    for (const { role, ns, srcIp, rules } of wanRules(topology, wan)) {
      const line = await startDelayLine({ ns, binary, rules, srcIp, seed: seed++, statsFile: join(dir, `delay-line-${role}.json`) });
      processes.push(line.process);
      delayLines.push({ role, pid: line.pid, statsFile: line.statsFile, targets: rules.map((r) => r.to) });
    }
    for (const role of /** @type {const} */ (['dev', 'reviewer'])) {
      const mbit = wan.rateMbit?.[role];
      if (!mbit) continue;
      // Uplink on the host's interface, downlink on the router's port towards it.
      const tbf = (ns, dev) => inNs(ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', TBF_BURST, 'latency', TBF_LATENCY);
      tbf(topology.ns[role], 'eth0');
      tbf(topology.routerNs[role], topology.routerPort[role]);
    }
  } catch (err) {
    for (const p of processes) await p.stop();
    throw err;
  }
  return { processes, delayLines };
}
