/**
 * Real proxy servers from Debian, for the agent's connection to the tunnel
 * server: tinyproxy (HTTP CONNECT, Basic credentials) and Dante's danted
 * (SOCKS5, with or without RFC 1929 user name and password). By default on
 * loopback, each connecting out from its own address (127.0.0.5, 127.0.0.6),
 * so the tunnel server's log tells a connection that came through it from a
 * direct one; or in a network namespace (`place`: the office proxy of
 * agent-proxy-office.test.ts). Each logs where it connected (`log()`). Fails
 * with the install command when a proxy is missing; never skips.
 *
 * Some files of /etc are the proxy's own: Dante checks credentials against the
 * system's password database, and a proxy resolves the names it is given with
 * the system's resolver (`hosts`: names the proxy's /etc/hosts adds). Such a
 * proxy runs in a mount namespace of its own (unshare) where those files are
 * copies with the additions: the machine's own files are never changed.
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
  /** What the proxy logged so far: tinyproxy each CONNECT's host and port, Dante each connection's addresses. */
  log(): string;
  stop(): Promise<void>;
}

/** Where a proxy runs when not on loopback here: in network namespace `netns`. */
export interface ProxyPlace {
  netns: string;
  /** The address it listens on, its port, and the clients it serves (a CIDR). */
  listen: string;
  port: number;
  clients: string;
  /** The address it connects out from. */
  egress: string;
}

interface ProxyOptions {
  place?: ProxyPlace;
  /** Host name → address, added to the proxy's /etc/hosts (it resolves the names of CONNECT and socks5h). */
  hosts?: Record<string, string>;
}

/** Files of /etc a proxy gets its own copy of (file name → content). */
type EtcFiles = Partial<Record<'passwd' | 'shadow' | 'hosts', string>>;

function need(bin: string, pkg: string): void {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`${bin} not found: install Debian's ${pkg}: apt-get install ${pkg}`);
  }
}

/** The place of a proxy on loopback here. */
async function loopback(egress: string): Promise<Omit<ProxyPlace, 'netns'> & { netns?: string }> {
  return { listen: '127.0.0.1', port: await freePort(), clients: '127.0.0.0/8', egress };
}

/**
 * `[bin, ...args]` run with its own copy of the `etc` files (bound over /etc's
 * in a mount namespace of its own), in `netns` when given.
 */
function commandLine(bin: string, args: string[], etc: Record<string, string>, netns: string | undefined): string[] {
  let line = [bin, ...args];
  const names = Object.keys(etc);
  if (names.length > 0) {
    need(UNSHARE_BIN, 'util-linux');
    const binds = names.map((name, i) => `mount --bind "$${i + 1}" /etc/${name}`).join(' && ');
    const script = `${binds} && shift ${names.length} && exec "$@"`;
    line = [UNSHARE_BIN, '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...names.map((n) => etc[n]!), ...line];
  }
  return netns ? ['ip', 'netns', 'exec', netns, ...line] : line;
}

/** Runs `bin` with `args(conf file)` once `ready` shows, with its own copy of the `etc` files. */
async function run(
  name: string,
  bin: string,
  args: (conf: string) => string[],
  conf: string,
  ready: RegExp,
  port: number,
  etc: EtcFiles,
  netns?: string,
): Promise<ProxyServer> {
  const dir = mkdtempSync(join(tmpdir(), `wingman-${name}-`));
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const paths: Record<string, string> = {};
  // Modes as /etc's own: Dante resolves names as its unprivileged user, which must read the hosts file.
  for (const [f, text] of Object.entries(etc)) writeFileSync((paths[f] = join(dir, f)), text, { mode: f === 'shadow' ? 0o600 : 0o644 });
  const [command, ...rest] = commandLine(bin, args(file), paths, netns);
  const { proc } = await spawnReady({ name, command: command!, args: rest, ownProcessGroup: false, ready, readyTimeoutMs: 10_000 }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    port,
    log: () => [...proc.stdoutLines(), ...proc.stderrLines()].join('\n'),
    async stop() {
      await proc.stop({ signal: 'SIGTERM' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The machine's /etc/hosts with `hosts` added, or nothing when there are none. */
function hostsFile(hosts: Record<string, string> | undefined): EtcFiles {
  if (!hosts || Object.keys(hosts).length === 0) return {};
  const added = Object.entries(hosts).map(([name, address]) => `${address} ${name}\n`);
  return { hosts: `${readFileSync('/etc/hosts', 'utf8')}${added.join('')}` };
}

/** tinyproxy, CONNECT allowed to `connectPort` only, with Basic credentials when `auth` is given. */
export async function startHttpProxy(options: ProxyOptions & { connectPort: number; auth?: { user: string; password: string } }): Promise<ProxyServer> {
  need(TINYPROXY_BIN, 'tinyproxy');
  const at = options.place ?? (await loopback(HTTP_PROXY_EGRESS));
  const conf = [
    `Port ${at.port}`,
    `Listen ${at.listen}`,
    `Bind ${at.egress}`,
    'Timeout 60',
    'LogLevel Info',
    'MaxClients 20',
    `Allow ${at.clients}`,
    `ConnectPort ${options.connectPort}`,
    ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.password}`] : []),
  ].join('\n');
  return run('tinyproxy', TINYPROXY_BIN, (file) => ['-d', '-c', file], `${conf}\n`, /Accepting connections/, at.port, hostsFile(options.hosts), at.netns);
}

/** A crypt(3) SHA-512 hash of `password`, as /etc/shadow holds one (openssl, a prerequisite of the TLS tests). */
function shadowHash(password: string): string {
  const r = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl passwd failed: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * danted (SOCKS5); with `auth`, it wants that user name and password (RFC
 * 1929), checked against its copies of /etc/passwd and /etc/shadow holding
 * that one user more. It logs each connection it makes: the client's address
 * and the destination's (a name asked for, resolved).
 */
export async function startSocksProxy(options: ProxyOptions & { auth?: { user: string; password: string } } = {}): Promise<ProxyServer> {
  need(DANTED_BIN, 'dante-server');
  const at = options.place ?? (await loopback(SOCKS_PROXY_EGRESS));
  const { auth } = options;
  const conf = [
    'logoutput: stderr',
    `internal: ${at.listen} port = ${at.port}`,
    `external: ${at.egress}`,
    'clientmethod: none',
    `socksmethod: ${auth ? 'username' : 'none'}`,
    'user.privileged: root',
    'user.unprivileged: nobody',
    `client pass { from: ${at.clients} to: 0.0.0.0/0 }`,
    // One option a line: Dante reads `command: connect log: connect` on one line as a syntax error.
    `socks pass {\n  from: ${at.clients} to: 0.0.0.0/0\n  command: connect\n  log: connect\n}`,
  ].join('\n');
  const etc: EtcFiles = hostsFile(options.hosts);
  if (auth) {
    etc.passwd = `${readFileSync('/etc/passwd', 'utf8')}${auth.user}:x:64000:64000::/nonexistent:/usr/sbin/nologin\n`;
    etc.shadow = `${readFileSync('/etc/shadow', 'utf8')}${auth.user}:${shadowHash(auth.password)}:20000:0:99999:7:::\n`;
  }
  return run('danted', DANTED_BIN, (file) => ['-f', file], `${conf}\n`, /Dante\/server.* running/, at.port, etc, at.netns);
}
