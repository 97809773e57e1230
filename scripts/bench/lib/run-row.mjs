/**
 * Runs one HTTP row: starts its processes, takes every measurement of the
 * table in a fixed order, and stops the processes whatever happened. A failed
 * measurement is recorded with its error; the others still run.
 */
import { measureDownload, measureUpload } from '../measure/bulk.mjs';
import { measureHttpLoad } from '../measure/http-load.mjs';
import { probeSse, probeWebSocket } from '../measure/probes.mjs';
import { CONCURRENCIES, DOWNLOAD_BYTES, SMALL_PATH, UPLOAD_BYTES } from './config.mjs';

/**
 * @param {{ id: string, label: string, unavailable(): string | null, start(): Promise<{ port: number, host: string, info: object, procs: Array<{ kill(): Promise<void> }> }> }} row
 * @param {{ durationS: number, warmupS: number, bulkRuns: number }} settings
 * @param {(msg: string) => void} log
 */
export async function runHttpRow(row, settings, log) {
  const result = { id: row.id, label: row.label, status: 'ok', metrics: {}, errors: {}, load: {}, details: {} };
  const reason = row.unavailable();
  if (reason) return { ...result, status: 'unavailable', reason };
  log(`${row.label}: starting`);
  let started;
  try {
    started = await row.start();
  } catch (err) {
    return { ...result, status: 'failed', reason: `could not start: ${firstLine(err)}`, detail: String(err?.message ?? err) };
  }
  result.info = started.info;
  const target = { port: started.port, host: started.host };
  const take = async (keys, fn) => {
    try {
      await fn();
    } catch (err) {
      for (const k of keys) result.errors[k] = firstLine(err);
      log(`${row.label}: ${keys.join(', ')} failed: ${firstLine(err)}`);
    }
  };
  try {
    await take(['websocket'], async () => {
      const r = await probeWebSocket(target);
      result.metrics.websocket = r.ok;
      result.details.websocket = r.detail;
    });
    await take(['sse'], async () => {
      const r = await probeSse(target);
      result.metrics.sse = r.ok;
      result.details.sse = r.detail;
    });
    for (const c of CONCURRENCIES) {
      log(`${row.label}: 1 KiB GET at concurrency ${c} (${settings.warmupS} s warm-up + ${settings.durationS} s)`);
      await take([`c${c}ReqPerSec`, `c${c}P50Ms`, `c${c}P99Ms`], async () => {
        const load = await measureHttpLoad({ ...target, path: SMALL_PATH, connections: c, durationS: settings.durationS, warmupS: settings.warmupS });
        if (load.completed === 0) throw new Error(`no successful request (${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx)`);
        result.load[`c${c}`] = load;
        result.metrics[`c${c}ReqPerSec`] = load.reqPerSec;
        result.metrics[`c${c}P50Ms`] = load.p50Ms;
        result.metrics[`c${c}P99Ms`] = load.p99Ms;
      });
    }
    log(`${row.label}: 100 MiB GET × ${settings.bulkRuns}`);
    await take(['downloadMBps'], async () => {
      const r = await measureDownload({ ...target, bytes: DOWNLOAD_BYTES, runs: settings.bulkRuns });
      result.metrics.downloadMBps = r.mbPerSec;
      result.details.downloadRunsMBps = r.runsMbPerSec;
    });
    log(`${row.label}: 20 MiB POST × ${settings.bulkRuns}`);
    await take(['uploadMBps'], async () => {
      const r = await measureUpload({ ...target, bytes: UPLOAD_BYTES, runs: settings.bulkRuns });
      result.metrics.uploadMBps = r.mbPerSec;
      result.details.uploadRunsMBps = r.runsMbPerSec;
    });
  } finally {
    for (const p of started.procs) await p.kill();
  }
  return result;
}

function firstLine(err) {
  return String(err?.message ?? err).split('\n')[0];
}
