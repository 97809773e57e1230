/** Starts the bench's target app (../target-app.mjs) as a child process. */
import { resolve } from 'node:path';
import { spawnNode } from '../lib/children.mjs';
import { BENCH_DIR, START_TIMEOUT_MS } from '../lib/config.mjs';

/** @returns {Promise<{ proc: ReturnType<typeof spawnNode>, port: number }>} */
export async function startTargetApp() {
  const proc = spawnNode('target app', [resolve(BENCH_DIR, 'target-app.mjs')]);
  const ev = await proc.waitEvent('listening', START_TIMEOUT_MS);
  return { proc, port: Number(ev.port) };
}
