/**
 * Runs the HTTP rows (direct, wingman relay, localtunnel) together: every row's
 * processes are started first, then each measurement is taken on every row in
 * turn (and each bulk transfer round-robin), so that a change in the machine's
 * load during the run hits all rows alike instead of skewing the ratios of
 * whichever row ran last. Idle rows cost nothing measurable meanwhile.
 * At c=1 each of a row's processes has its CPU per request measured too
 * (proc.mjs), in `load.c1.cpu`.
 * A failed measurement is recorded with its error; the others still run.
 * Every process is stopped whatever happens.
 */
import { measureDownload, measureUpload } from '../measure/bulk.mjs';
import { measureHttpLoad } from '../measure/http-load.mjs';
import { probeSse, probeWebSocket } from '../measure/probes.mjs';
import { CONCURRENCIES, DOWNLOAD_BYTES, SMALL_PATH, UPLOAD_BYTES, WARMUP_BYTES } from './config.mjs';
import { createCpuMeter } from './proc.mjs';

/**
 * @typedef {{ id: string, label: string, unavailable(): string | null, start(): Promise<{ port: number, host: string, info: object, procs: Array<{ name: string, child: { pid?: number }, kill(): Promise<void> }> }> }} HttpRow
 * @param {HttpRow[]} rows
 * @param {{ durationS: number, warmupS: number, bulkRuns: number }} settings
 * @param {(msg: string) => void} log
 */
export async function runHttpRows(rows, settings, log) {
  const results = rows.map((row) => ({ id: row.id, label: row.label, status: 'ok', metrics: {}, errors: {}, load: {}, details: {} }));
  const running = [];
  try {
    for (const [i, row] of rows.entries()) {
      const reason = row.unavailable();
      if (reason) {
        Object.assign(results[i], { status: 'unavailable', reason });
        continue;
      }
      log(`${row.label}: starting`);
      try {
        const started = await row.start();
        results[i].info = started.info;
        running.push({ result: results[i], started, target: { port: started.port, host: started.host } });
      } catch (err) {
        Object.assign(results[i], { status: 'failed', reason: `could not start: ${firstLine(err)}`, detail: String(err?.message ?? err) });
      }
    }
    await measureAll(running, settings, log);
  } finally {
    for (const { started } of running) for (const p of started.procs) await p.kill();
  }
  return results;
}

async function measureAll(running, settings, log) {
  const take = async (r, keys, fn) => {
    try {
      await fn();
    } catch (err) {
      for (const k of keys) r.result.errors[k] = firstLine(err);
      log(`${r.result.label}: ${keys.join(', ')} failed: ${firstLine(err)}`);
    }
  };
  for (const r of running) {
    await take(r, ['websocket'], async () => {
      const p = await probeWebSocket(r.target);
      r.result.metrics.websocket = p.ok;
      r.result.details.websocket = p.detail;
    });
    await take(r, ['sse'], async () => {
      const p = await probeSse(r.target);
      r.result.metrics.sse = p.ok;
      r.result.details.sse = p.detail;
    });
  }
  for (const c of CONCURRENCIES) {
    for (const r of running) {
      log(`${r.result.label}: 1 KiB GET at concurrency ${c} (${settings.warmupS} s warm-up + ${settings.durationS} s)`);
      await take(r, [`c${c}ReqPerSec`, `c${c}P50Ms`, `c${c}P99Ms`], async () => {
        const cpu = c === 1 ? createCpuMeter(r.started.procs.map((p) => ({ name: p.name, pid: Number(p.child.pid) }))) : undefined;
        const load = await measureHttpLoad({ ...r.target, path: SMALL_PATH, connections: c, durationS: settings.durationS, warmupS: settings.warmupS, cpu });
        r.result.load[`c${c}`] = load;
        if (load.completed === 0) throw new Error(`no successful request (${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx)`);
        r.result.metrics[`c${c}ReqPerSec`] = load.reqPerSec;
        r.result.metrics[`c${c}P50Ms`] = load.p50Ms;
        r.result.metrics[`c${c}P99Ms`] = load.p99Ms;
      });
    }
  }
  const bulk = [
    { key: 'downloadMBps', what: '100 MiB GET', once: (r, bytes = DOWNLOAD_BYTES) => measureDownload({ ...r.target, bytes }) },
    { key: 'uploadMBps', what: '20 MiB POST', once: (r, bytes = UPLOAD_BYTES) => measureUpload({ ...r.target, bytes }) },
  ];
  for (const b of bulk) {
    log(`${b.what}: a warm-up round, then ${settings.bulkRuns} rounds over ${running.map((r) => r.result.label).join(', ')}`);
    // The first transfer through a fresh process set ran at half speed or less
    // (JIT, socket buffers growing): one uncounted WARMUP_BYTES transfer per row first.
    for (const r of running) await take(r, [b.key], () => b.once(r, WARMUP_BYTES));
    const rates = new Map(running.map((r) => [r, []]));
    for (let round = 0; round < settings.bulkRuns; round++) {
      for (const r of running) {
        if (r.result.errors[b.key]) continue; // one failure is enough to report; do not wait for more
        await take(r, [b.key], async () => rates.get(r).push(await b.once(r)));
      }
    }
    for (const r of running) {
      if (r.result.errors[b.key]) continue;
      const sorted = [...rates.get(r)].sort((x, y) => x - y);
      r.result.metrics[b.key] = sorted[Math.floor(sorted.length / 2)];
      r.result.details[`${b.key}Runs`] = rates.get(r);
    }
  }
}

function firstLine(err) {
  return String(err?.message ?? err).split('\n')[0];
}
