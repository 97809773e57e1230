/**
 * The diagnostics' request loop (cpu-ab.mjs, cpu-profile.mjs): 1 KiB
 * GETs one after another on one keep-alive connection, each answered 200.
 */
import http from 'node:http';
import { SMALL_PATH } from '../lib/config.mjs';

const REQUEST_TIMEOUT_MS = 10_000;

/** @returns {{ get(t: { port: number, host: string }): Promise<void>, close(): void }} */
export function createSequentialGetter() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (t) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: t.port, path: SMALL_PATH, headers: { host: t.host }, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
    });
  return { get, close: () => agent.destroy() };
}
