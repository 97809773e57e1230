/**
 * Transport figures per measured phase of a WAN run (the cold visit, each
 * reload, the small requests, the bulk download and upload): what the hosts'
 * kernels, the delay lines and the shell's peer connection counted between
 * the phase's start and its end. The reviewer takes a snapshot before and
 * after each phase (createPhaseMeter); the figures are the differences.
 *
 *   udp / tcp   per namespace (server, reviewer, dev): /proc/net/snmp (snmp.mjs)
 *   delayLine   per namespace's delay line: packets written back, lost (the
 *               random loss), dropped on a full queue; per destination (`to`)
 *   webrtc      the shell's newest RTCPeerConnection (in-page.mjs transportCounters)
 *   cpu         the busiest processes of the lab's hosts (cpu-sample.mjs)
 *   peerPath    P2P datagrams one end sent that the other's pair did not
 *               count as received, per direction, next to what the delay
 *               line dropped on that way and the receiver's buffer overflows
 */
import { counterDelta } from './counter-delta.mjs';
import { readDelayLines } from './delay-line-counters.mjs';
import { cpuFigures, cpuSnapshot, netnsOf } from './cpu-sample.mjs';
import { readSnmp } from './snmp.mjs';

/**
 * @typedef {import('./delay-line-counters.mjs').DelayLineRef & { targets: string[] }} CountedDelayLine
 *   targets: the role each of its rules leads to, in rule order
 * @typedef {{ delayLines: CountedDelayLine[] }} CounterSources
 * @typedef {{ id: string, state: string, openChannels: number, rttMs: number | null, counters: Record<string, Record<string, number>> }} WebrtcCounters
 * @typedef {object} Snapshot
 * @property {number} atMs
 * @property {Record<string, import('./snmp.mjs').SnmpCounters | null>} hosts
 * @property {Record<string, import('./delay-line-counters.mjs').DelayLineStats | null>} delayLines
 * @property {WebrtcCounters | null} webrtc
 * @property {import('./cpu-sample.mjs').CpuSnapshot | null} cpu
 */

/**
 * @param {CounterSources} sources
 * @param {() => Promise<WebrtcCounters | null>} readWebrtc
 * @returns {Promise<Snapshot>}
 */
export async function takeSnapshot(sources, readWebrtc) {
  const hosts = {};
  for (const ref of sources.delayLines) {
    try {
      hosts[ref.role] = readSnmp(ref.pid);
    } catch {
      hosts[ref.role] = null;
    }
  }
  const delayLines = await readDelayLines(sources.delayLines);
  const webrtc = await readWebrtc().catch(() => null);
  let cpu = null;
  try {
    cpu = cpuSnapshot(Object.fromEntries(sources.delayLines.map((ref) => [ref.role, netnsOf(ref.pid)])));
  } catch {
    // a namespace went
  }
  return { atMs: Date.now(), hosts, delayLines, webrtc, cpu };
}

const sum = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, (a?.[k] ?? 0) + b[k]]));

/** A delay line's counters over the phase, its rules summed per destination role. */
function delayLineFigures(after, before, targets) {
  if (!after || !before) return null;
  const d = counterDelta(after, before);
  const to = {};
  d.rules.forEach(({ dst: _dst, ...counts }, i) => {
    const role = targets[i] ?? 'other';
    to[role] = sum(to[role], counts);
  });
  return { written: d.written, lost: d.lost, queueFull: d.queueFull, to };
}

/** The peer connection's counters over the phase (all of a connection made during it), and its RTT at the end. */
export function webrtcFigures(before, after) {
  if (!after) return null;
  const fresh = !before || before.id !== after.id;
  return {
    newConnection: fresh,
    state: after.state,
    openChannels: after.openChannels,
    rttMs: after.rttMs,
    ...counterDelta(after.counters, fresh ? undefined : before.counters),
  };
}

/**
 * Datagrams of the direct P2P path one end sent and the other end did not
 * receive, per direction: each one the sender's SCTP had to send again.
 * `sent`: what left the sender's delay line towards the other host (written
 * back or dropped there; in P2P modes nothing but the peer connection's
 * datagrams goes straight between the hosts); `received`: towards the
 * reviewer its pair's `packetsReceived`, towards the developer its host's
 * UDP `InDatagrams` (wrtc's counters are not read; the few STUN answers from
 * the server count as received there, so that `missing` is a lower bound);
 * `missing` = sent − received, next to what the delay line dropped and what
 * the receiving socket's full buffer dropped. Null without a peer
 * connection's traffic, or when it took no direct path (a TURN pair).
 */
export function peerPathFigures(udp, delayLine, webrtc) {
  // The selected pair's packets; the transport's where this Chromium leaves the pair's at zero.
  const counted = (s) => (s && s.packetsSent + s.packetsReceived > 0 ? s : null);
  const pair = counted(webrtc?.pair) ?? counted(webrtc?.transport);
  const toReviewer = delayLine.dev?.to?.reviewer;
  const toDev = delayLine.reviewer?.to?.dev;
  if (!pair || !udp.dev || !toReviewer || !toDev || toReviewer.matched + toDev.matched === 0) return null;
  const way = (line, received, rcvbufErrors) => {
    const sent = line.written + line.lost + line.queueFull;
    return { sent, received, missing: sent - received, delayLineDropped: line.lost + line.queueFull, rcvbufErrors };
  };
  return {
    toReviewer: way(toReviewer, pair.packetsReceived, udp.reviewer?.RcvbufErrors ?? null),
    toDev: way(toDev, udp.dev.InDatagrams, udp.dev.RcvbufErrors),
  };
}

/**
 * @param {Snapshot} before
 * @param {Snapshot} after
 * @param {CounterSources} sources
 */
export function phaseFigures(before, after, sources) {
  const udp = {};
  const tcp = {};
  const delayLine = {};
  for (const ref of sources.delayLines) {
    const h = after.hosts[ref.role] && before.hosts[ref.role] ? counterDelta(after.hosts[ref.role], before.hosts[ref.role]) : null;
    udp[ref.role] = h?.udp ?? null;
    tcp[ref.role] = h?.tcp ?? null;
    delayLine[ref.role] = delayLineFigures(after.delayLines[ref.role], before.delayLines[ref.role], ref.targets);
  }
  const webrtc = webrtcFigures(before.webrtc, after.webrtc);
  const cpu = before.cpu && after.cpu ? cpuFigures(before.cpu, after.cpu) : null;
  return { ms: after.atMs - before.atMs, udp, tcp, delayLine, webrtc, peerPath: peerPathFigures(udp, delayLine, webrtc), cpu };
}

/**
 * Phases of one reviewer run: begin(name) takes the snapshot before, end(name,
 * extra) the one after and records the figures (with `extra`, e.g. the
 * load's stall figures) in `phases`. Without sources (no delay lines: not a
 * WAN run) only `extra` is recorded.
 * @param {CounterSources | null} sources
 * @param {() => Promise<WebrtcCounters | null>} readWebrtc
 */
export function createPhaseMeter(sources, readWebrtc) {
  /** @type {Record<string, Record<string, unknown>>} */
  const phases = {};
  const started = new Map();
  return {
    phases,
    async begin(name) {
      if (sources) started.set(name, await takeSnapshot(sources, readWebrtc));
    },
    async end(name, extra = {}) {
      const before = started.get(name);
      started.delete(name);
      if (before && sources) phases[name] = { ...phaseFigures(before, await takeSnapshot(sources, readWebrtc), sources), ...extra };
      else if (Object.keys(extra).length > 0) phases[name] = { ...extra };
    },
  };
}
