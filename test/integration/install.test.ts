/**
 * `wingman` and `wingman-server` as a user gets them: the `wingman-tunnel`
 * package is packed (`npm pack`, which bundles it), installed globally from
 * the tarball into an empty prefix (`npm install -g`, its dependencies from a
 * loopback registry fed by the local npm cache: no network here), and the
 * installed commands, run by their shebangs, share a local app through the
 * relay and peer-to-peer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { installedPackageForFile, PACKAGE_DIR, run, startInstalledTunnel } from '../helpers/installed-package';
import { killAll } from '../helpers/processes';

jest.setTimeout(60_000);

const installed = installedPackageForFile();
let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

describe('the wingman-tunnel package', () => {
  it('packs only the bundled commands, the browser bundles, the inspector page, the README, the license and the pinned native dependency', async () => {
    const listed = await run('tar', ['-tzf', installed().tarball]);
    const files = listed.out
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''))
      .sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'assets/inspector/index.html',
      'assets/inspector/inspector.css',
      'assets/inspector/inspector.js',
      'assets/inspector/viewers.js',
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
    for (const bin of ['wingman', 'wingman-server', 'wingman-tunnel'] as const) expect(existsSync(installed().bin(bin))).toBe(true);
    expect(existsSync(join(installed().prefix, 'lib/node_modules/wingman-tunnel/node_modules/@roamhq/wrtc/package.json'))).toBe(true);
    // Nothing of the workspace leaks in as a dependency: it is all in the bundle.
    expect(existsSync(join(installed().prefix, 'lib/node_modules/wingman-tunnel/node_modules/@wingman'))).toBe(false);
  });

  it('passes `npm publish --dry-run`, with no publish warning but the missing login', async () => {
    const published = await run('npm', ['publish', '--dry-run', '--registry', installed().registry.url, '--cache', join(installed().work, 'cache')], {
      cwd: PACKAGE_DIR,
    });
    const warnings = published.err.split('\n').filter((l) => /^npm (warn publish|error)/.test(l) && !/requires you to be logged in/.test(l));
    expect({ code: published.code, warnings }).toEqual({ code: 0, warnings: [] });
    expect(published.out).toMatch(/^\+ wingman-tunnel@0\.1\.0$/m);
    expect(published.err).toMatch(/assets\/inspector\/inspector\.js/);
  });

  it('runs with npx as `npx wingman-tunnel …`: the command named after the package is the agent', async () => {
    const ran = await run(
      'npx',
      [
        '--yes',
        '--registry',
        installed().registry.url,
        '--cache',
        join(installed().work, 'cache'),
        '--loglevel',
        'error',
        `file:${installed().tarball}`,
        '--version',
      ],
      {
        cwd: installed().work,
      },
    );
    expect({ code: ran.code, out: ran.out.trim(), err: ran.err }).toEqual({ code: 0, out: '0.1.0', err: '' });
  });

  it('once installed, `wingman-server` and `wingman http <port>` share a local app through the relay, with the browser bundles served', async () => {
    const t = await startInstalledTunnel(installed(), app.port);
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
    const inline = readFileSync(join(installed().prefix, 'lib/node_modules/wingman-tunnel/dist/shell-inline.js'), 'utf8').trim();
    expect(shell.body.toString()).toContain(`<script>${inline}</script>`);
  });

  it('once installed, the agent serves a viewer peer-to-peer from its P2P host process', async () => {
    const t = await startInstalledTunnel(installed(), app.port);
    const fetched = await run(installed().bin('wingman'), ['fetch', '--p2p-only', `${t.url}hello`]);
    // A failure says what the command said on stderr.
    if (fetched.code !== 0)
      throw new Error(`wingman fetch exited with ${fetched.signal ?? fetched.code}; stdout ${JSON.stringify(fetched.out)}; stderr:\n${fetched.err}`);
    expect(fetched.err).toMatch(/200 via p2p/);
    expect(fetched.out).toBe('hello GET');
  });
});
