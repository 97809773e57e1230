/**
 * The P2P row's measurements: HTTP exchanges and a WebSocket carried by the
 * Wingman protocol over the data channel, with the project's own Node viewer
 * client (`requestOver` from packages/relay-server/dist/viewer/request.js).
 */
import { randomBytes } from 'node:crypto';
import { MAX_LATENCY_SAMPLES, PROBE_TIMEOUT_MS, TRANSFER_TIMEOUT_MS } from '../lib/config.mjs';
import { percentiles } from './percentiles.mjs';

/** After this many failed requests a load run stops (the connection is gone). */
const MAX_ERRORS = 100;
const SMALL_TIMEOUT_MS = 10_000;

/**
 * With `cpu` (lib/proc.mjs createCpuMeter), also each process's CPU per
 * completed request over the counted part (not the warm-up): `cpu` in the result.
 * @param {{ requestOver: Function, conn: any, host: string }} ctx
 * @param {{ path: string, connections: number, durationS: number, warmupS: number, expectBytes: number, cpu?: ReturnType<typeof import('../lib/proc.mjs').createCpuMeter> }} o
 */
export async function protocolLoad(ctx, o) {
  await loadFor(ctx, o, o.warmupS, null);
  const samples = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, Math.ceil(o.durationS * 200_000)));
  const stats = { n: 0, errors: 0, lastError: '' };
  o.cpu?.start();
  const t0 = performance.now();
  await loadFor(ctx, o, o.durationS, { samples, stats });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = o.cpu?.stop(stats.n);
  const [p50Ms, p99Ms] = percentiles(samples, stats.n, [50, 99]) ?? [null, null];
  return {
    reqPerSec: stats.n / seconds,
    p50Ms,
    p99Ms,
    completed: stats.n,
    errors: stats.errors,
    timeouts: 0,
    non2xx: 0,
    lastError: stats.lastError,
    ...(cpu ? { cpu } : {}),
  };
}

async function loadFor(ctx, o, seconds, record) {
  const deadline = performance.now() + seconds * 1000;
  const stats = record?.stats ?? { n: 0, errors: 0, lastError: '' };
  const worker = async () => {
    while (performance.now() < deadline && stats.errors < MAX_ERRORS && (!record || stats.n < record.samples.length)) {
      const t0 = performance.now();
      try {
        const res = await ctx.requestOver(ctx.conn, { target: o.path, headers: [['host', ctx.host]] }, SMALL_TIMEOUT_MS);
        const body = await res.bytes();
        if (res.status !== 200 || body.length !== o.expectBytes) throw new Error(`HTTP ${res.status}, ${body.length} bytes`);
        if (record) record.samples[stats.n] = performance.now() - t0;
        stats.n++;
      } catch (err) {
        stats.errors++;
        stats.lastError = String(err?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  if (stats.errors >= MAX_ERRORS) throw new Error(`${stats.errors} failed requests; last: ${stats.lastError}`);
}

/** @returns {Promise<number>} MB/s of one GET of `bytes`, body consumed and discarded */
export async function protocolDownload(ctx, bytes) {
  return withTimeout(TRANSFER_TIMEOUT_MS, 'P2P download', async () => {
    const t0 = performance.now();
    const res = await ctx.requestOver(ctx.conn, { target: `/bytes?n=${bytes}`, headers: [['host', ctx.host]] }, SMALL_TIMEOUT_MS);
    if (res.status !== 200) throw new Error(`GET /bytes answered HTTP ${res.status}`);
    let got = 0;
    for await (const c of res.chunks()) got += c.length;
    if (got !== bytes) throw new Error(`GET /bytes delivered ${got} of ${bytes} bytes`);
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  });
}

/** @returns {Promise<number>} MB/s of one POST of `bytes` up to the app's answer */
export async function protocolUpload(ctx, bytes) {
  const body = new Uint8Array(bytes).fill(0x42);
  return withTimeout(TRANSFER_TIMEOUT_MS, 'P2P upload', async () => {
    const t0 = performance.now();
    const headers = [
      ['host', ctx.host],
      ['content-type', 'application/octet-stream'],
      ['content-length', String(bytes)],
    ];
    const res = await ctx.requestOver(ctx.conn, { method: 'POST', target: '/upload', headers, body }, TRANSFER_TIMEOUT_MS);
    const text = (await res.bytes()).toString('utf8');
    if (res.status !== 200 || JSON.parse(text).length !== bytes) throw new Error(`POST /upload answered HTTP ${res.status} ${text.slice(0, 200)}`);
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  });
}

/** SSE over the channel: the first event must arrive while the response is open. */
export async function protocolSse(ctx) {
  const id = randomBytes(8).toString('hex');
  return withTimeout(PROBE_TIMEOUT_MS, 'P2P SSE', async () => {
    const t0 = performance.now();
    const res = await ctx.requestOver(ctx.conn, { target: `/sse?id=${id}`, headers: [['host', ctx.host]] }, PROBE_TIMEOUT_MS);
    let text = '';
    let firstMs = -1;
    for await (const c of res.chunks()) {
      text += Buffer.from(c).toString('utf8');
      if (firstMs < 0 && text.includes('data: first\n\n')) {
        firstMs = performance.now() - t0;
        const rel = await ctx.requestOver(ctx.conn, { target: `/sse-release?id=${id}`, headers: [['host', ctx.host]] }, PROBE_TIMEOUT_MS);
        await rel.bytes();
      }
    }
    const ok = firstMs >= 0 && text.includes('data: second\n\n');
    return { ok, detail: ok ? `first event after ${firstMs.toFixed(1)} ms, while the response was open` : 'stream ended without both events' };
  }).catch((err) => ({ ok: false, detail: String(err?.message ?? err) }));
}

/** WebSocket echo (text, then 64 KiB binary) over a protocol 'ws' stream. */
export function protocolWebSocket(ctx) {
  return new Promise((resolve) => {
    const text = `hello ${randomBytes(4).toString('hex')}`;
    const binary = randomBytes(64 * 1024);
    let stream;
    let step = 0;
    const finish = (ok, detail) => {
      clearTimeout(timer);
      if (stream && !stream.closed) stream.reset('ERR_CANCEL', 'probe done');
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => finish(false, `no echo within ${PROBE_TIMEOUT_MS} ms (step ${step})`), PROBE_TIMEOUT_MS);
    try {
      stream = ctx.conn.open('ws', { method: 'GET', target: '/ws', headers: [['host', ctx.host]] });
    } catch (err) {
      return finish(false, String(err?.message ?? err));
    }
    stream.once('response', (head) => {
      if (head.status !== 101) return finish(false, `upgrade refused: HTTP ${head.status}`);
      stream.sendMessage(text);
    });
    stream.on('message', (data, isText) => {
      if (step === 0) {
        if (!isText || Buffer.from(data).toString('utf8') !== text) return finish(false, 'text echo differs');
        step = 1;
        return stream.sendMessage(binary);
      }
      if (isText || !Buffer.from(data).equals(binary)) return finish(false, 'binary echo differs');
      finish(true, 'text + 64 KiB binary echoed');
    });
    stream.once('reset', (err) => finish(false, `stream reset: ${err?.message ?? err}`));
  });
}

async function withTimeout(ms, what, fn) {
  let timer;
  try {
    return await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not done within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
