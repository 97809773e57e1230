/**
 * The instrument's own check: does the delay line add what it is told to?
 * Dev and reviewer on one LAN (no firewall between them), the public
 * namespace across the router; WAN conditions from DELAY_CHECK_WAN. From the
 * reviewer: TCP connects to the public namespace (one SYN/SYN-ACK round
 * trip: ≈ reviewer↔server RTT) and UDP echoes from the dev host (≈
 * reviewer↔dev RTT; a lost probe or echo is lost: loss ≈ 1 − (1 − p)²).
 * The bounds are wide on purpose: this checks that the delay is there and
 * roughly right, not how fast the machine is. Around the measurement it
 * also takes the hosts' and delay lines' counters (phase-counters.mjs:
 * `counted`), which must add up with what the probes sent and received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destroyNamespaces, listNamespaces } from './netns.mjs';
import { phaseFigures, takeSnapshot } from './phase-counters.mjs';
import { startInNamespace } from './proc.mjs';
import { ROOT } from './stack.mjs';
import { buildTopology } from './topology.mjs';
import { applyWan } from './wan.mjs';

const PROBE = join(ROOT, 'scripts/lab/probe.mjs');
const PROBE_PORT = 9000;
/** What the check configures: server far (80 ms), peer near and lossy (40 ms, 10 % each way). */
export const DELAY_CHECK_WAN = {
  reviewerServer: { rttMs: 80 },
  devServer: { rttMs: 80 },
  reviewerDev: { rttMs: 40, lossPct: 10 },
};
const TCP_CONNECTS = 10;
/** 400 probes: the loss estimate's standard deviation is ~2 points, far inside the bounds below. */
const UDP_PROBES = 400;
const UDP_INTERVAL_MS = 2;
/** Echoes still in flight after the last probe arrive within one RTT; 1 s is plenty. */
const UDP_WAIT_MS = 1_000;
/** Above the configured RTT, what a loaded 2-core machine may add (scheduling, Node timers). */
export const RTT_SLACK_MS = 60;
/** Round-trip loss expected from 10 % each way is 19 %; these bounds catch "none" and "all". */
export const LOSS_BOUNDS = [0.1, 0.3];
/** Processes start in a second or two; the measurement takes ~2-3 s. */
const STEP_TIMEOUT_MS = 30_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * @param {{ prefix: string, index: number, binary: string, log: (s: string) => void }} options
 */
export async function runDelayCheck({ prefix, index, binary, log }) {
  const started = Date.now();
  const row = {
    scenario: 'delay-line',
    title: 'the delay line adds the configured RTT and loss',
    kind: 'delay-check',
    ok: false,
    configured: DELAY_CHECK_WAN,
    measured: null,
    checks: {},
    failed: [],
    error: null,
    durationMs: 0,
  };
  const processes = [];
  const dir = mkdtempSync(join(tmpdir(), 'wmlab-delay-check-'));
  try {
    const t = buildTopology({ prefix, index, name: row.scenario, routers: [{ nat: 'none', hosts: ['dev', 'reviewer'] }] });
    const wan = await applyWan({ topology: t, wan: DELAY_CHECK_WAN, binary, dir });
    processes.push(...wan.processes);
    const sources = { delayLines: wan.delayLines };
    const noPeer = async () => null;
    for (const [ns, ip] of [
      [t.publicNs, t.publicIp],
      [t.ns.dev, t.hostIp.dev],
    ]) {
      const p = startInNamespace({ name: `probe(${ns})`, ns, command: process.execPath, args: [PROBE, 'serve', ip, String(PROBE_PORT)] });
      processes.push(p);
      await p.waitFor((e) => e.event === 'listening', STEP_TIMEOUT_MS, 'listening');
    }
    const config = {
      tcp: { ip: t.publicIp, port: PROBE_PORT, count: TCP_CONNECTS },
      udp: { ip: t.hostIp.dev, port: PROBE_PORT, count: UDP_PROBES, intervalMs: UDP_INTERVAL_MS, waitMs: UDP_WAIT_MS },
    };
    const m = startInNamespace({ name: 'probe(measure)', ns: t.ns.reviewer, command: process.execPath, args: [PROBE, 'measure', JSON.stringify(config)] });
    const before = await takeSnapshot(sources, noPeer);
    processes.push(m);
    const r = await m.waitFor((e) => e.event === 'result', STEP_TIMEOUT_MS, 'a result');
    row.counted = phaseFigures(before, await takeSnapshot(sources, noPeer), sources);
    if (r.error) throw new Error(String(r.error));
    const tcp = /** @type {number[]} */ (r.tcpConnectMs);
    const udp = /** @type {{ sent: number, received: number, rttMs: number[] }} */ (r.udp);
    const round = (x) => Math.round(x * 10) / 10;
    row.measured = {
      tcpConnectMinMs: round(Math.min(...tcp)),
      tcpConnectMedianMs: round(median(tcp)),
      udpRttMinMs: udp.rttMs.length > 0 ? round(Math.min(...udp.rttMs)) : null,
      udpRttMedianMs: udp.rttMs.length > 0 ? round(median(udp.rttMs)) : null,
      udpLoss: Math.round((1 - udp.received / udp.sent) * 1000) / 1000,
      udpSent: udp.sent,
      udpReceived: udp.received,
    };
    // Every probe went through the reviewer's delay line towards the dev host; what it let through
    // arrived there (the dev host's UDP counters) and went back through the dev host's line.
    const toDev = row.counted.delayLine.reviewer?.to.dev;
    const toReviewer = row.counted.delayLine.dev?.to.reviewer;
    row.checks.counters =
      toDev?.matched === udp.sent &&
      toDev.written + toDev.lost + toDev.queueFull === toDev.matched &&
      row.counted.udp.dev?.InDatagrams === toDev.written &&
      toReviewer?.matched === toDev.written &&
      toReviewer.written >= udp.received;
    const inRange = (min, med, rtt) => typeof min === 'number' && min >= rtt && med < rtt + RTT_SLACK_MS;
    const mm = row.measured;
    row.checks.serverRtt = inRange(mm.tcpConnectMinMs, mm.tcpConnectMedianMs, DELAY_CHECK_WAN.reviewerServer.rttMs);
    row.checks.peerRtt = inRange(mm.udpRttMinMs, mm.udpRttMedianMs, DELAY_CHECK_WAN.reviewerDev.rttMs);
    row.checks.loss = mm.udpLoss >= LOSS_BOUNDS[0] && mm.udpLoss <= LOSS_BOUNDS[1];
    log(
      `delay-line: TCP connect min/median ${mm.tcpConnectMinMs}/${mm.tcpConnectMedianMs} ms (RTT 80), UDP echo min/median ${mm.udpRttMinMs}/${mm.udpRttMedianMs} ms (RTT 40), loss ${(mm.udpLoss * 100).toFixed(1)} % (19 % expected)`,
    );
  } catch (err) {
    row.error = err instanceof Error ? err.message : String(err);
    row.checks.noError = false;
  } finally {
    for (const p of processes.reverse()) await p.stop();
    const problems = destroyNamespaces(listNamespaces(`${prefix}${index}-`));
    if (problems.length > 0) row.error = [row.error, ...problems].filter(Boolean).join('; ');
    rmSync(dir, { recursive: true, force: true });
  }
  row.failed = Object.entries(row.checks)
    .filter(([, pass]) => pass !== true)
    .map(([name]) => name);
  row.ok = row.failed.length === 0 && row.error === null;
  row.durationMs = Date.now() - started;
  return row;
}
