/**
 * Bench settings: fixed sizes the goals are stated in, and the few knobs read
 * from the environment (validated: a typo must not silently run a 0 s bench).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BENCH_DIR = resolve(ROOT, 'scripts', 'bench');
export const SERVER_BIN = resolve(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
export const AGENT_BIN = resolve(ROOT, 'packages/relay-server/dist/bin/wingman.js');
export const VIEWER_MODULE = resolve(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js');
/** Which candidates the P2P host shows a viewer (the lab's set-up race shows the same). */
export const CANDIDATES_MODULE = resolve(ROOT, 'packages/relay-server/dist/p2p/candidates.js');
export const REQUEST_MODULE = resolve(ROOT, 'packages/relay-server/dist/viewer/request.js');
export const WEBRTC_MODULE = resolve(ROOT, 'packages/relay-server/dist/p2p/webrtc.js');
export const PROTOCOL_MODULE = resolve(ROOT, 'packages/protocol/dist/index.js');
/** The raw data channel's host (the P2P rows' baseline; never part of the agent). */
export const RAW_HOST_SCRIPT = resolve(BENCH_DIR, 'lib/raw-host.mjs');

/** Bulk figures: MB/s for a 100 MiB GET and a 20 MiB POST. */
export const DOWNLOAD_BYTES = 100 * 1024 * 1024;
export const UPLOAD_BYTES = 20 * 1024 * 1024;
/** One uncounted transfer of this size per row before the bulk figures. */
export const WARMUP_BYTES = 20 * 1024 * 1024;
/** Small-request figures: a 1 KiB GET at concurrency 1 and 50. */
export const SMALL_PATH = '/1k';
export const CONCURRENCIES = [1, 50];

/** A child that has not printed its ready line by then is broken, not slow. */
export const START_TIMEOUT_MS = 20_000;
/** One bulk transfer; at 1 MB/s 100 MiB would take longer — that already is a failure worth seeing. */
export const TRANSFER_TIMEOUT_MS = 120_000;
/** WebSocket and SSE probes answer in milliseconds when they work. */
export const PROBE_TIMEOUT_MS = 5_000;
/** Latency samples kept per measurement (bounds memory; ~50k req/s × 10 s fits). */
export const MAX_LATENCY_SAMPLES = 2_000_000;

/**
 * Reads a positive number from the environment.
 * @param {string} name
 * @param {number} fallback
 * @param {{ integer?: boolean, max: number }} limits
 */
function envNumber(name, fallback, { integer = false, max }) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'} ≤ ${max}, got "${raw}"`);
  }
  return n;
}

/** @returns the run's settings (throws a readable error on a bad variable). */
export function readSettings() {
  return {
    /** BENCH_DURATION_S: seconds per req/s + latency measurement (~5 s gives stable figures here). */
    durationS: envNumber('BENCH_DURATION_S', 5, { max: 600 }),
    /** BENCH_WARMUP_S: warm-up before each of those measurements, not counted. */
    warmupS: envNumber('BENCH_WARMUP_S', 1, { max: 60 }),
    /** BENCH_BULK_RUNS: transfers per bulk figure; the median is reported. */
    bulkRuns: envNumber('BENCH_BULK_RUNS', 5, { integer: true, max: 20 }),
    /** BENCH_TIMEOUT_S: deadline for the whole run; children are killed when it passes. */
    timeoutS: envNumber('BENCH_TIMEOUT_S', 1200, { max: 7200 }),
  };
}
