/**
 * `wingman http` against a small real tunnel-server stand-in: in process
 * through main() for the output contract, and once as a real child process
 * (the built bin) for signals and exit codes.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli';
import { parseTarget } from '../../src/cli/target-option';
import { freePort, startLocalApp, type LocalApp } from './helpers/local-app';
import { startFakeTunnelServer, type FakeTunnelServer } from './helpers/fake-tunnel-server';
import { send } from './helpers/viewer';
import { decodePrintedQr, qrLines } from '../support/decode-qr';
import { spawnProcess } from '../../../../scripts/lib/spawn-ready.mjs';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

/** Bound on waiting for main()'s output: it writes within milliseconds of the fake server's answer. */
const OUTPUT_TIMEOUT_MS = 5_000;

const BIN = join(__dirname, '../../dist/bin/wingman.js');
let app: LocalApp;
let server: FakeTunnelServer;
let stateDir: string;

beforeEach(async () => {
  app = await startLocalApp();
  server = await startFakeTunnelServer({ token: 'wingman-local-dev-token' });
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-cli-test-'));
});

afterEach(async () => {
  await server.close();
  await app.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Runs main() with captured output; `stop()` plays Ctrl+C. */
function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new EventEmitter();
  const controller = new AbortController();
  const exit = main(['node', 'wingman', ...args], {
    stdout: { write: (s: string) => (out.push(s), output.emit('write', s)) },
    stderr: { write: (s: string) => (err.push(s), output.emit('write', s)) },
    env: { WINGMAN_STATE_DIR: stateDir, ...env },
    signal: controller.signal,
  });
  const lines = () => out.join('').split('\n').filter(Boolean);
  return {
    exit,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    json: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => controller.abort(),
    /** Resolves once `pred` holds, checked after each write. */
    async waitFor(pred: () => boolean, what: string) {
      if (pred()) return;
      await waitForEvent(output, 'write', { filter: pred, timeoutMs: OUTPUT_TIMEOUT_MS, what }).catch((e: Error) => {
        throw new Error(`${e.message}; stdout:\n${out.join('')}\nstderr:\n${err.join('')}`);
      });
    },
  };
}

describe('wingman http', () => {
  it('prints ready as the first JSON line, then one line per request, and exits 0 when stopped', async () => {
    const cli = run(['http', String(app.port), '--server', server.url, '--json']);
    await cli.waitFor(() => cli.json().length > 0, 'ready');
    const [ready] = cli.json();
    expect(Object.keys(ready!).slice(0, 3)).toEqual(['event', 'url', 'sessionId']);
    expect(ready).toMatchObject({ event: 'ready', url: expect.stringMatching(/^http:\/\/[a-z2-7]{26}\.localhost:\d+\/$/), resumed: false, p2p: true });
    await send(server.connection()!, { target: '/echo' });
    await cli.waitFor(() => cli.json().length > 1, 'a request line');
    expect(cli.json()[1]).toMatchObject({ event: 'request', method: 'GET', target: '/echo', status: 200, transport: 'relay' });
    cli.stop();
    expect(await cli.exit).toBe(0);
  });

  it('gets the same URL back when restarted within the grace period', async () => {
    const first = run(['http', String(app.port), '--server', server.url, '--json']);
    await first.waitFor(() => first.json().length > 0, 'ready');
    first.stop();
    await first.exit;
    const second = run(['http', String(app.port), '--server', server.url.replace('127.0.0.1', 'localhost'), '--json']);
    await second.waitFor(() => second.json().length > 0, 'ready');
    // The same link too: the link key is kept with the session.
    expect(first.json()[0]!.link).toMatch(/#k=[A-Za-z0-9_-]{22}$/);
    expect(second.json()[0]).toMatchObject({ url: first.json()[0]!.url, link: first.json()[0]!.link, resumed: true });
    second.stop();
    await second.exit;
    const fresh = run(['http', String(app.port), '--server', server.url, '--json', '--new-session']);
    await fresh.waitFor(() => fresh.json().length > 0, 'ready');
    expect(fresh.json()[0]!.url).not.toBe(first.json()[0]!.url);
    expect(fresh.json()[0]!.link).not.toContain(String(first.json()[0]!.link).split('#')[1]);
    fresh.stop();
    await fresh.exit;
  });

  it('registers with the viewer password read from --password-file, and warns on stderr only for --password on the command line', async () => {
    const file = join(stateDir, 'viewer-password');
    writeFileSync(file, 'from a file\n', { mode: 0o600 });
    const cli = run(['http', String(app.port), '--server', server.url, '--json', '--password-file', file]);
    await cli.waitFor(() => cli.json().length > 0, 'ready');
    expect(server.registers[0]!.viewerPassword).toBe('from a file');
    expect(cli.stderr()).toBe('');
    cli.stop();
    await cli.exit;

    const visible = run(['http', String(app.port), '--server', server.url, '--json', '--password', 'in argv', '--new-session']);
    await visible.waitFor(() => visible.json().length > 0, 'ready');
    expect(server.registers.at(-1)!.viewerPassword).toBe('in argv');
    expect(visible.stderr()).toMatch(/--password is visible to other users of this machine \(ps.*WINGMAN_PASSWORD or --password-file/);
    visible.stop();
    await visible.exit;

    const missing = run(['http', String(app.port), '--server', server.url, '--password-file', join(stateDir, 'nope')]);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr()).toMatch(/cannot read --password-file .*nope: ENOENT/);
  });

  it('exits 5 with one fatal line when the token is refused', async () => {
    const cli = run(['http', String(app.port), '--server', server.url, '--json'], { WINGMAN_TOKEN: 'not-the-token' });
    expect(await cli.exit).toBe(5);
    expect(cli.json()).toEqual([{ event: 'fatal', code: 'ERR_TOKEN_REFUSED', message: 'the tunnel server refused the token' }]);
    expect(server.upgrades).toBe(1);
  });

  it('prints a banner with the URL and target, and a one-line warning when nothing listens yet', async () => {
    const port = await freePort();
    const cli = run(['http', `127.0.0.1:${port}`, '--server', server.url]);
    await cli.waitFor(() => cli.stdout().includes('localhost:'), 'the banner');
    expect(cli.stdout()).toMatch(/http:\/\/[a-z2-7]{26}\.localhost:\d+\//);
    expect(cli.stdout()).toContain(`forwarding to http://127.0.0.1:${port}`);
    await cli.waitFor(() => cli.stderr().includes('nothing listening'), 'the warning');
    expect(cli.stderr()).toContain(`warning: nothing listening on 127.0.0.1:${port} yet; viewers get a 502 until it starts`);
    cli.stop();
    expect(await cli.exit).toBe(0);
  });

  it('prints a QR code that scans to the link (with its key) with --qr, and none by default off a terminal', async () => {
    const withQr = run(['http', String(app.port), '--server', server.url, '--qr']);
    await withQr.waitFor(() => withQr.stdout().includes('forwarding to'), 'the banner');
    const link = /http:\/\/[a-z2-7]{26}\.localhost:\d+\/#k=[A-Za-z0-9_-]{22}/.exec(withQr.stdout())?.[0];
    expect(link).toBeDefined();
    expect(decodePrintedQr(qrLines(withQr.stdout()))).toBe(link);
    withQr.stop();
    expect(await withQr.exit).toBe(0);

    const plain = run(['http', String(app.port), '--server', server.url, '--new-session']);
    await plain.waitFor(() => plain.stdout().includes('forwarding to'), 'the banner');
    expect(qrLines(plain.stdout())).toEqual([]);
    plain.stop();
    expect(await plain.exit).toBe(0);
  });

  it('says the server is unreachable and that it retries', async () => {
    const port = await freePort();
    const cli = run(['http', String(app.port), '--server', `http://127.0.0.1:${port}`]);
    await cli.waitFor(() => cli.stderr().includes('retrying'), 'a retry line');
    expect(cli.stderr()).toMatch(
      /cannot reach the tunnel server at http:\/\/127\.0\.0\.1:\d+: connection refused — is it running\? check --server; retrying in \d+\.\d s \(attempt 1\)/,
    );
    cli.stop();
    expect(await cli.exit).toBe(0);
  });

  it.each([
    [['http', '0'], /invalid port 0/],
    [['http', '70000'], /invalid port 70000/],
    [['http', 'localhost'], /invalid target "localhost"/],
    [['http', '3000', '--server', 'ftp://x'], /use http:\/\/ or https:\/\//],
    [['http', '3000', '--timeout', 'soon'], /invalid --timeout/],
    [['http', '3000', '--host-header', 'a b'], /invalid --host-header/],
  ])('rejects %j with exit code 2', async (args, message) => {
    const cli = run(args);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toMatch(message);
  });

  it('refuses a second target with exit code 2, pointing to `wingman start` for several ports', async () => {
    const cli = run(['http', '3000', '4000', '--server', server.url]);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toBe(
      'error: one target per `wingman http`, and "4000" is extra: to share several ports, name each in a wingman.json and run `wingman start` (`wingman start --help`)\n',
    );
    expect(server.upgrades).toBe(0);
  });

  it.each([
    [['3000'], 'did you mean `wingman http 3000`?'],
    [['127.0.0.1:5173', '--password', 'secret'], 'did you mean `wingman http 127.0.0.1:5173`?'],
    [['3000', '4000'], 'did you mean `wingman http 3000`? One port per `wingman http`; to share several ports'],
  ])('answers `wingman %j` (no command) with the `wingman http` it meant, never echoing other arguments', async (args, hint) => {
    const cli = run(args);
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toContain(`error: unknown command '${args[0]}'\n${hint}`);
    expect(cli.stderr()).not.toContain('secret');
  });

  it('parses targets with a default host of localhost', () => {
    expect(parseTarget('3000')).toEqual({ host: 'localhost', port: 3000 });
    expect(parseTarget('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseTarget('[::1]:5173')).toEqual({ host: '::1', port: 5173 });
  });

  it('runs as a process: ready first, exit code 0 on SIGINT', async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b\` first`);
    const proc = spawnProcess({
      name: 'wingman http',
      command: process.execPath,
      args: [BIN, 'http', String(app.port), '--server', server.url, '--json'],
      env: { ...process.env, WINGMAN_STATE_DIR: stateDir },
      ownProcessGroup: false,
    });
    try {
      const first = await proc.waitForLine(() => true, { timeoutMs: 10_000, what: 'its first line' });
      expect(JSON.parse(first)).toMatchObject({ event: 'ready', sessionId: expect.stringMatching(/^[a-z2-7]{26}$/) });
      proc.child.kill('SIGINT');
      expect((await proc.exited).code).toBe(0);
    } finally {
      await proc.stop({ signal: 'SIGKILL' });
    }
  });
});
