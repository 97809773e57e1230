/**
 * req/s and latency of a small GET at a fixed concurrency, with autocannon's
 * programmatic API: connects to 127.0.0.1:<port> and sends the tunnel's
 * session host in the Host header (no DNS, traffic stays on loopback).
 */
import autocannon from 'autocannon';
import { MAX_LATENCY_SAMPLES } from '../lib/config.mjs';
import { percentiles } from './percentiles.mjs';

/**
 * With `cpu` (lib/proc.mjs createCpuMeter), also each process's CPU per 2xx
 * response over the counted part (not the warm-up): `cpu` in the result.
 * @param {{ port: number, host: string, path: string, connections: number, durationS: number, warmupS: number, cpu?: ReturnType<typeof import('../lib/proc.mjs').createCpuMeter> }} o
 * @returns {Promise<{ reqPerSec: number, p50Ms: number | null, p99Ms: number | null, completed: number, errors: number, timeouts: number, non2xx: number, cpu?: import('../lib/proc.mjs').CpuPerRequest }>}
 */
export async function measureHttpLoad(o) {
  const samples = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, Math.ceil(o.durationS * 200_000)));
  let n = 0;
  let ok = 0;
  const instance = autocannon({
    url: `http://127.0.0.1:${o.port}${o.path}`,
    headers: { host: o.host },
    connections: o.connections,
    duration: o.durationS,
    // A request slower than this counts as a timeout (reported), not a hang.
    timeout: 10,
    warmup: { connections: o.connections, duration: o.warmupS },
  });
  // With a warm-up, the returned tracker is the counted run's: its 'start' is the end of the warm-up.
  if (o.cpu) instance.on('start', () => o.cpu.start());
  // Per-response latency in fractional ms (see percentiles.mjs for why not autocannon's histogram).
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode < 200 || statusCode >= 300) return;
    ok++;
    if (n < samples.length) samples[n++] = responseTimeMs;
  });
  const result = await instance;
  const cpu = o.cpu?.stop(ok);
  const [p50Ms, p99Ms] = percentiles(samples, n, [50, 99]) ?? [null, null];
  return {
    reqPerSec: result['2xx'] / result.duration,
    p50Ms,
    p99Ms,
    completed: result['2xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    ...(cpu ? { cpu } : {}),
  };
}
