/**
 * A throwaway redis-server on loopback for the cluster tests (no
 * persistence, an ephemeral port). Fails with the install command when
 * Debian's redis-server is missing; never skips.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { spawnReady } from '../../scripts/lib/spawn-ready.mjs';
import { freePort } from './ports';

export { freePort };

export const REDIS_BIN = '/usr/bin/redis-server';

export interface RedisProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A throwaway redis-server on loopback (no persistence; `port` to start one again where a stopped one was); resolves once it accepts connections. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisProcess> {
  try {
    accessSync(REDIS_BIN, constants.X_OK);
  } catch {
    throw new Error(`${REDIS_BIN} not found: install Debian's redis-server: apt-get install redis-server`);
  }
  const port = options.port ?? (await freePort());
  const { proc } = await spawnReady({
    name: 'redis-server',
    command: REDIS_BIN,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    ownProcessGroup: false,
    ready: /Ready to accept connections/,
    readyTimeoutMs: 10_000,
  });
  const child = proc.child;
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    stop: () => proc.stop({ signal: 'SIGKILL' }),
  };
}
