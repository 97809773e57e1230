/**
 * Real proxy servers from Debian on loopback, for the agent's connection to
 * the tunnel server: tinyproxy (HTTP CONNECT, Basic credentials) and Dante's
 * danted (SOCKS5). Each connects out from its own loopback address (127.0.0.5,
 * 127.0.0.6), so the tunnel server's log tells a connection that came
 * through it from a direct one. Fails with the install command when a
 * proxy is missing; never skips.
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnReady } from '../../scripts/lib/spawn-ready.mjs';
import { freePort } from './redis';

export const TINYPROXY_BIN = '/usr/bin/tinyproxy';
export const DANTED_BIN = '/usr/sbin/danted';
/** The address tinyproxy connects out from. */
export const HTTP_PROXY_EGRESS = '127.0.0.5';
/** The address danted connects out from. */
export const SOCKS_PROXY_EGRESS = '127.0.0.6';

export interface ProxyServer {
  port: number;
  stop(): Promise<void>;
}

function need(bin: string, pkg: string): void {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`${bin} not found: install Debian's ${pkg}: apt-get install ${pkg}`);
  }
}

async function run(name: string, bin: string, args: (conf: string) => string[], conf: string, ready: RegExp, port: number): Promise<ProxyServer> {
  const dir = mkdtempSync(join(tmpdir(), `wingman-${name}-`));
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const { proc } = await spawnReady({ name, command: bin, args: args(file), ownProcessGroup: false, ready, readyTimeoutMs: 10_000 }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    port,
    async stop() {
      await proc.stop({ signal: 'SIGTERM' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** tinyproxy on 127.0.0.1, CONNECT allowed to `connectPort` only, with Basic credentials when `auth` is given. */
export async function startHttpProxy(options: { connectPort: number; auth?: { user: string; password: string } }): Promise<ProxyServer> {
  need(TINYPROXY_BIN, 'tinyproxy');
  const port = await freePort();
  const conf = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    `Bind ${HTTP_PROXY_EGRESS}`,
    'Timeout 60',
    'LogLevel Info',
    'MaxClients 20',
    'Allow 127.0.0.0/8',
    `ConnectPort ${options.connectPort}`,
    ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.password}`] : []),
  ].join('\n');
  return run('tinyproxy', TINYPROXY_BIN, (file) => ['-d', '-c', file], `${conf}\n`, /Accepting connections/, port);
}

/** danted (SOCKS5, no authentication) on 127.0.0.1. */
export async function startSocksProxy(): Promise<ProxyServer> {
  need(DANTED_BIN, 'dante-server');
  const port = await freePort();
  const conf = [
    'logoutput: stderr',
    `internal: 127.0.0.1 port = ${port}`,
    `external: ${SOCKS_PROXY_EGRESS}`,
    'clientmethod: none',
    'socksmethod: none',
    'user.privileged: root',
    'user.unprivileged: nobody',
    'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
    'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }',
  ].join('\n');
  return run('danted', DANTED_BIN, (file) => ['-f', file], `${conf}\n`, /Dante\/server.* running/, port);
}
