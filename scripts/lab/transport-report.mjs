/**
 * The WAN comparison's transport line per scenario and mode (printed under
 * the table): per phase, the stalled requests of each load and the drops
 * and retransmissions behind them (phase-counters.mjs, stalls.mjs), so a
 * slower cell shows its cause. Also the figures `--repeat` takes medians of.
 */

/** The loads (stall figures) and transfers of a WAN row's `phases`, with their names in the line. */
const PHASES = [
  ['cold', 'cold'],
  ['warmReload', 'warm reload'],
  ['swStoppedReload', 'reload, SW stopped'],
  ['small', 'API requests'],
  ['download', '20 MiB down'],
  ['upload', '20 MiB up'],
];
const ROLES = ['reviewer', 'dev', 'server'];

/** Paths in a WAN row whose medians `--repeat` reports (repeats.mjs), with digits kept. */
export const TRANSPORT_FIGURES = PHASES.flatMap(([p]) => [
  ...(['cold', 'warmReload', 'swStoppedReload'].includes(p)
    ? [`phases.${p}.stalls.stalled`, `phases.${p}.stalls.stalledExcessMs`, `phases.${p}.stalls.p50Ms`, ...ROLES.map((r) => `phases.${p}.cpu.msByRole.${r}`)]
    : []),
  ...ROLES.flatMap((r) => [
    `phases.${p}.udp.${r}.RcvbufErrors`,
    `phases.${p}.tcp.${r}.RetransSegs`,
    `phases.${p}.delayLine.${r}.lost`,
    `phases.${p}.delayLine.${r}.queueFull`,
  ]),
  `phases.${p}.peerPath.toReviewer.missing`,
  `phases.${p}.peerPath.toDev.missing`,
]).map((path) => /** @type {[string, number]} */ ([path, 0]));

/** "reviewer 12, dev 3" of the roles whose value is non-zero; null when all are zero or absent. */
function perRole(of) {
  const parts = ROLES.flatMap((r) => {
    const v = of(r);
    return typeof v === 'number' && v !== 0 ? [`${r} ${v}`] : [];
  });
  return parts.length > 0 ? parts.join(', ') : null;
}

/**
 * One phase's figures in a few words; empty when it has none.
 * @param {Record<string, any>} p a phase of a row's `phases`
 */
export function describePhase(p) {
  const parts = [];
  const s = p.stalls;
  // p50/p90 too: a loss that holds every request up at once moves them and stalls none.
  if (s && s.count > 0)
    parts.push(
      `requests p50 ${s.p50Ms} / p90 ${s.p90Ms} ms, ${s.stalled} of ${s.count} stalled (> ${s.thresholdMs} ms${s.stalled > 0 ? `, +${s.stalledExcessMs} ms over p50` : ''})`,
    );
  const rcvbuf = perRole((r) => p.udp?.[r]?.RcvbufErrors);
  if (rcvbuf) parts.push(`UDP receive-buffer drops ${rcvbuf}`);
  const sndbuf = perRole((r) => p.udp?.[r]?.SndbufErrors);
  if (sndbuf) parts.push(`UDP send-buffer drops ${sndbuf}`);
  const lost = perRole((r) => p.delayLine?.[r]?.lost);
  if (lost) parts.push(`delay-line loss at ${lost}`);
  const full = perRole((r) => p.delayLine?.[r]?.queueFull);
  if (full) parts.push(`delay-line queue full at ${full}`);
  const retrans = perRole((r) => p.tcp?.[r]?.RetransSegs);
  if (retrans) parts.push(`TCP retransmitted segments ${retrans}`);
  const cpuMs = perRole((r) => (typeof p.cpu?.msByRole?.[r] === 'number' ? Math.round(p.cpu.msByRole[r]) : undefined));
  if (cpuMs) parts.push(`CPU ms ${cpuMs}`);
  const path = p.peerPath;
  if (path) parts.push(`P2P datagrams missing →reviewer ${path.toReviewer.missing}, →dev ${path.toDev.missing}`);
  if (typeof p.webrtc?.rttMs === 'number') parts.push(`pair RTT ${p.webrtc.rttMs} ms`);
  return parts.join('; ');
}

/**
 * One line per WAN row: "- scenario [mode] transport: phase: …; phase: …".
 * @param {Array<Record<string, any>>} rows
 */
export function formatTransportLines(rows) {
  return rows
    .filter((r) => r.phases)
    .map((r) => {
      const phases = PHASES.flatMap(([key, name]) => {
        const text = r.phases[key] ? describePhase(r.phases[key]) : '';
        return text ? [`${name}: ${text}`] : [];
      });
      return `- ${r.scenario} [${r.mode}] transport: ${phases.join(' | ') || 'no figures'}`;
    })
    .join('\n');
}
