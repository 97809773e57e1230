/**
 * What the server host carried: read before and after the reviewer's run.
 * - wire: bytes in and out of the public namespace's own stack (its bridge
 *   `br0` counts only frames to and from the host, not those it switches
 *   between routers): the tunnel server and coturn together, headers included;
 * - relay, signaling: the tunnel server's own counters from /metrics
 *   (`wingman_relay_bytes_total`: HTTP bodies and WebSocket messages relayed;
 *   `wingman_signaling_bytes_total`: viewer signaling payload).
 */
import { inNs } from './netns.mjs';

/** A node one-liner in the public namespace: GET /metrics on the apex host over HTTPS (the server serves it there), trusting the lab CA. */
const METRICS_SCRIPT = `
const [ip, port, host, caFile] = process.argv.slice(1);
require('node:https').get({ host: ip, port: Number(port), path: '/metrics', headers: { host }, ca: require('node:fs').readFileSync(caFile), timeout: 5000 }, (res) => {
  let text = '';
  res.on('data', (d) => (text += d));
  res.on('end', () => process.stdout.write(text));
}).on('error', (err) => { process.stderr.write(String(err)); process.exitCode = 1; });
`;

/** Sum of a Prometheus counter's samples (all label sets). */
function counter(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const v = Number(line.trim().split(/\s+/).pop());
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/**
 * @param {{ publicNs: string, publicIp: string, port: number, apexHost: string, caFile: string, metrics?: boolean }} options
 *   metrics: false when no tunnel server runs (the plain TLS proxy): relay and signaling are then 0
 * @returns {{ wire: number, relay: number, signaling: number }}
 */
export function readServerBytes({ publicNs, publicIp, port, apexHost, caFile, metrics: withMetrics = true }) {
  const link = JSON.parse(inNs(publicNs, 'ip', '-s', '-j', 'link', 'show', 'br0'))[0];
  const wire = Number(link.stats64.rx.bytes) + Number(link.stats64.tx.bytes);
  if (!withMetrics) return { wire, relay: 0, signaling: 0 };
  const metrics = inNs(publicNs, process.execPath, '-e', METRICS_SCRIPT, publicIp, String(port), apexHost, caFile);
  return { wire, relay: counter(metrics, 'wingman_relay_bytes_total'), signaling: counter(metrics, 'wingman_signaling_bytes_total') };
}
