/**
 * Real proxy servers from Debian on loopback, for the agent's connection to
 * the tunnel server: tinyproxy (HTTP CONNECT, Basic credentials) and Dante's
 * danted (SOCKS5, with or without RFC 1929 user name and password). Each connects out from its own loopback address (127.0.0.5,
 * 127.0.0.6), so the tunnel server's log tells a connection that came
 * through it from a direct one. Fails with the install command when a
 * proxy is missing; never skips.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnReady } from '../../scripts/lib/spawn-ready.mjs';
import { freePort } from './redis';

export const TINYPROXY_BIN = '/usr/bin/tinyproxy';
export const DANTED_BIN = '/usr/sbin/danted';
const UNSHARE_BIN = '/usr/bin/unshare';
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

/** Runs `bin` with `args(conf file)` once `ready` shows; `files` are written next to the conf file first (args gets their paths). */
async function run(
  name: string,
  bin: string,
  args: (conf: string, files: Record<string, string>) => string[],
  conf: string,
  ready: RegExp,
  port: number,
  files: Record<string, string> = {},
): Promise<ProxyServer> {
  const dir = mkdtempSync(join(tmpdir(), `wingman-${name}-`));
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const paths = Object.fromEntries(Object.keys(files).map((f) => [f, join(dir, f)]));
  for (const [f, text] of Object.entries(files)) writeFileSync(paths[f]!, text, { mode: 0o600 });
  const { proc } = await spawnReady({ name, command: bin, args: args(file, paths), ownProcessGroup: false, ready, readyTimeoutMs: 10_000 }).catch(
    (err: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    },
  );
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

/** A crypt(3) SHA-512 hash of `password`, as /etc/shadow holds one (openssl, a prerequisite of the TLS tests). */
function shadowHash(password: string): string {
  const r = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl passwd failed: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * danted (SOCKS5) on 127.0.0.1; with `auth`, it wants that user name and
 * password (RFC 1929). Dante checks them against the system's password
 * database, so it runs in a mount namespace of its own (unshare) where
 * /etc/passwd and /etc/shadow are copies holding that one user more: the
 * machine's own files are never changed.
 */
export async function startSocksProxy(options: { auth?: { user: string; password: string } } = {}): Promise<ProxyServer> {
  need(DANTED_BIN, 'dante-server');
  const port = await freePort();
  const { auth } = options;
  const conf = [
    'logoutput: stderr',
    `internal: 127.0.0.1 port = ${port}`,
    `external: ${SOCKS_PROXY_EGRESS}`,
    'clientmethod: none',
    `socksmethod: ${auth ? 'username' : 'none'}`,
    'user.privileged: root',
    'user.unprivileged: nobody',
    'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
    'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }',
  ].join('\n');
  const ready = /Dante\/server.* running/;
  if (!auth) return run('danted', DANTED_BIN, (file) => ['-f', file], `${conf}\n`, ready, port);
  need(UNSHARE_BIN, 'util-linux');
  const files = {
    passwd: `${readFileSync('/etc/passwd', 'utf8')}${auth.user}:x:64000:64000::/nonexistent:/usr/sbin/nologin\n`,
    shadow: `${readFileSync('/etc/shadow', 'utf8')}${auth.user}:${shadowHash(auth.password)}:20000:0:99999:7:::\n`,
  };
  const script = 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/shadow && exec "$3" -f "$4"';
  return run(
    'danted',
    UNSHARE_BIN,
    (file, paths) => ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', paths.passwd!, paths.shadow!, DANTED_BIN, file],
    `${conf}\n`,
    ready,
    port,
    files,
  );
}
