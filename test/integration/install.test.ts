/**
 * `wingman` and `wingman-server` as a user gets them: the `wingman-tunnel`
 * package is packed (`npm pack`, which bundles it), installed globally from
 * the tarball into an empty prefix (`npm install -g`, its dependencies from a
 * loopback registry fed by the local npm cache: no network here), and the
 * installed commands, run by their shebangs, share a local app through the
 * relay and peer-to-peer.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { startOfflineRegistry, type OfflineRegistry } from '../helpers/offline-registry';
import { killAll, ROOT, startCommand } from '../helpers/processes';

/** pack (esbuild bundle) + install (a 10 MB native package from the cache): about 10 s here; generous for a loaded CI machine. */
const INSTALL_TIMEOUT_MS = 120_000;
jest.setTimeout(60_000);

const PACKAGE_DIR = join(ROOT, 'packages/wingman-tunnel');

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, out, errOut) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
      },
    );
  });
}

let work: string;
let tarball: string;
let prefix: string;
let registry: OfflineRegistry;
let app: FixtureApp;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wingman-install-'));
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: PACKAGE_DIR });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.err}`);
  tarball = join(work, packed.out.trim().split('\n').pop()!);
  registry = await startOfflineRegistry(join(ROOT, 'package-lock.json'));
  prefix = join(work, 'prefix');
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
}, INSTALL_TIMEOUT_MS * 2);

afterAll(async () => {
  await registry?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

async function startInstalledTunnel(): Promise<{ serverPort: number; url: string; host: string }> {
  const server = startCommand(join(prefix, 'bin/wingman-server'), ['--port', '0', '--json'], { LOG_LEVEL: 'warn' });
  const listening = await server.waitFor((e) => e.event === 'listening');
  const agent = startCommand(join(prefix, 'bin/wingman'), ['http', String(app.port), '--server', String(listening.url), '--json'], {
    WINGMAN_STATE_DIR: join(work, 'state'),
  });
  const ready = await agent.waitFor((e) => e.event === 'ready');
  return { serverPort: Number(listening.port), url: String(ready.url), host: new URL(String(ready.url)).host };
}

describe('the wingman-tunnel package', () => {
  it('packs only the bundled commands, the browser bundles, the README, the license and the pinned native dependency', async () => {
    const listed = await run('tar', ['-tzf', tarball]);
    const files = listed.out
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''))
      .sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'dist/bin/host-process.js',
      'dist/bin/wingman-server.js',
      'dist/bin/wingman.js',
      'dist/client.js',
      'dist/client.js.map',
      'dist/diagnostics.js',
      'dist/diagnostics.js.map',
      'dist/shell-inline.js',
      'dist/shim.js',
      'dist/shim.js.map',
      'dist/sw.js',
      'dist/sw.js.map',
      'npm-shrinkwrap.json',
      'package.json',
    ]);
  });

  it('installs globally as the commands wingman, wingman-server and wingman-tunnel, with the native WebRTC module inside the package', () => {
    for (const bin of ['wingman', 'wingman-server', 'wingman-tunnel']) expect(existsSync(join(prefix, 'bin', bin))).toBe(true);
    expect(existsSync(join(prefix, 'lib/node_modules/wingman-tunnel/node_modules/@roamhq/wrtc/package.json'))).toBe(true);
    // Nothing of the workspace leaks in as a dependency: it is all in the bundle.
    expect(existsSync(join(prefix, 'lib/node_modules/wingman-tunnel/node_modules/@wingman'))).toBe(false);
  });

  it('runs with npx as `npx wingman-tunnel …`: the command named after the package is the agent', async () => {
    const ran = await run('npx', ['--yes', '--registry', registry.url, '--cache', join(work, 'cache'), '--loglevel', 'error', `file:${tarball}`, '--version'], {
      cwd: work,
    });
    expect({ code: ran.code, out: ran.out.trim(), err: ran.err }).toEqual({ code: 0, out: '0.1.0', err: '' });
  });

  it('once installed, `wingman-server` and `wingman http <port>` share a local app through the relay, with the browser bundles served', async () => {
    const t = await startInstalledTunnel();
    const page = await send(t.serverPort, t.host, { path: '/hello' });
    expect(page.status).toBe(200);
    expect(page.headers['x-wingman-transport']).toBe('relay');
    expect(page.body.toString()).toBe('hello GET');
    const sw = await send(t.serverPort, t.host, { path: '/__wingman/sw.js' });
    expect(sw.status).toBe(200);
    expect(sw.headers['content-type']).toMatch(/javascript/);
    const diagnostics = await send(t.serverPort, t.host, { path: '/__wingman/diagnostics.js' });
    expect(diagnostics.status).toBe(200);
    expect(diagnostics.headers['content-type']).toMatch(/javascript/);
    // A browser's top-level navigation gets the shell, its inline script read from the package.
    const shell = await send(t.serverPort, t.host, { path: '/hello', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
    expect(shell.status).toBe(200);
    const inline = readFileSync(join(prefix, 'lib/node_modules/wingman-tunnel/dist/shell-inline.js'), 'utf8').trim();
    expect(shell.body.toString()).toContain(`<script>${inline}</script>`);
  });

  it('once installed, the agent serves a viewer peer-to-peer from its P2P host process', async () => {
    const t = await startInstalledTunnel();
    const fetched = await run(join(prefix, 'bin/wingman'), ['fetch', '--p2p-only', `${t.url}hello`]);
    expect(fetched.err).toMatch(/200 via p2p/);
    expect(fetched).toMatchObject({ code: 0, out: 'hello GET' });
  });
});
