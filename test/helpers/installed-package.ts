/**
 * The `wingman-tunnel` package as a user gets it: packed (`npm pack`, which
 * bundles it) and installed globally from the tarball into an empty prefix
 * (`npm install -g`, its dependencies from a loopback registry fed by the
 * local npm cache: no network here). The installed commands are run by their
 * shebangs from `<prefix>/bin`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOfflineRegistry, type OfflineRegistry } from './offline-registry';
import { PUBLIC_AGENT_ENV, ROOT, startCommand, type Proc } from './processes';

/** pack (esbuild bundle) + install (a 10 MB native package from the cache): about 10 s here; generous for a loaded CI machine. */
export const INSTALL_TIMEOUT_MS = 120_000;

export const PACKAGE_DIR = join(ROOT, 'packages/wingman-tunnel');

export interface RunResult {
  /** The exit code; 1 when a signal ended the command. */
  code: number;
  /** The signal that ended the command (a native crash: SIGSEGV, SIGABRT), if one did. */
  signal?: string;
  out: string;
  err: string;
}

/** Runs a command to its end (bounded by INSTALL_TIMEOUT_MS); never rejects. */
export function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, out, errOut) => {
        const signal = (err as { signal?: string | null } | null)?.signal ?? undefined;
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, ...(signal ? { signal } : {}), out, err: errOut });
      },
    );
  });
}

export interface InstalledPackage {
  /** A scratch directory holding the tarball, the prefix, the npm cache and agent state. */
  work: string;
  tarball: string;
  /** The global prefix: commands in `<prefix>/bin`, the package in `<prefix>/lib/node_modules`. */
  prefix: string;
  registry: OfflineRegistry;
  /** `<prefix>/bin/<name>`. */
  bin(name: 'wingman' | 'wingman-server' | 'wingman-tunnel'): string;
  /** Stops the registry and deletes the scratch directory. */
  close(): Promise<void>;
}

export async function packAndInstall(): Promise<InstalledPackage> {
  const work = mkdtempSync(join(tmpdir(), 'wingman-install-'));
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: PACKAGE_DIR });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.err}`);
  const tarball = join(work, packed.out.trim().split('\n').pop()!);
  const registry = await startOfflineRegistry(join(ROOT, 'package-lock.json'));
  const prefix = join(work, 'prefix');
  // An empty cache: every dependency comes through the registry, as for a user.
  const installed = await run('npm', [
    'install',
    '-g',
    '--prefix',
    prefix,
    '--registry',
    registry.url,
    '--cache',
    join(work, 'cache'),
    '--no-audit',
    '--no-fund',
    '--loglevel',
    'error',
    tarball,
  ]);
  if (installed.code !== 0) throw new Error(`npm install -g failed:\n${installed.err}`);
  return {
    work,
    tarball,
    prefix,
    registry,
    bin: (name) => join(prefix, 'bin', name),
    async close() {
      await registry.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * Packs and installs once for the test file (jest beforeAll/afterAll) and
 * returns a getter for the installed package, valid inside tests.
 */
export function installedPackageForFile(): () => InstalledPackage {
  let pkg: InstalledPackage | undefined;
  beforeAll(async () => {
    pkg = await packAndInstall();
  }, INSTALL_TIMEOUT_MS * 2);
  afterAll(async () => {
    await pkg?.close();
  });
  return () => {
    if (!pkg) throw new Error('the package is not installed: installedPackageForFile() installs it in beforeAll');
    return pkg;
  };
}

export interface InstalledTunnel {
  agent: Proc;
  serverPort: number;
  url: string;
  host: string;
}

/** The installed `wingman-server` on port 0 and the installed `wingman http <appPort> [agentArgs]` against it. */
export async function startInstalledTunnel(pkg: InstalledPackage, appPort: number, agentArgs: string[] = []): Promise<InstalledTunnel> {
  const server = startCommand(pkg.bin('wingman-server'), ['--port', '0', '--json'], { LOG_LEVEL: 'warn' });
  const listening = await server.waitFor((e) => e.event === 'listening');
  // --public, as processes.ts starts agents: these tests open the session by its host name.
  const agent = startCommand(pkg.bin('wingman'), ['http', String(appPort), '--server', String(listening.url), '--json', ...agentArgs], {
    ...PUBLIC_AGENT_ENV,
    WINGMAN_STATE_DIR: join(pkg.work, 'state'),
  });
  const ready = await agent.waitFor((e) => e.event === 'ready');
  return { agent, serverPort: Number(listening.port), url: String(ready.url), host: new URL(String(ready.url)).host };
}
