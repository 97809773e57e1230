/** The wingman-server bin as a real process (needs `npm run build` / `npx tsc -b` first). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { send } from './helpers/http-client';
import { spawnProcess, type ManagedProcess } from '../../../../scripts/lib/spawn-ready.mjs';

jest.setTimeout(30_000);

const BIN = join(__dirname, '..', '..', 'dist', 'bin', 'wingman-server.js');
/** Bound on a wait for the server's first line or its exit: it starts and stops in well under a second. */
const WAIT_MS = 10_000;
const children = new Set<ManagedProcess>();

/** @param fdLimit run the server under `ulimit -n fdLimit` (a shell that execs node). */
function start(args: string[], env: Record<string, string> = {}, fdLimit?: number) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b\` (or \`npm run build\`) first`);
  const childEnv = { ...process.env, LOG_LEVEL: 'warn', ...env };
  const [command, argv] =
    fdLimit === undefined ? [process.execPath, [BIN, ...args]] : ['sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, BIN, ...args]];
  const proc = spawnProcess({ name: 'wingman-server', command, args: argv, env: childEnv, ownProcessGroup: false });
  children.add(proc);
  const firstLine = proc.waitForLine(() => true, { timeoutMs: WAIT_MS, what: 'its first line' });
  // Tests that only wait for the exit leave this unawaited: not an unhandled rejection.
  firstLine.catch(() => undefined);
  return {
    child: proc.child,
    firstLine,
    /** The exit code, once the process ended and its output was read (bounded from the moment it is asked). */
    get exit(): Promise<number | null> {
      return proc.waitForExit({ timeoutMs: WAIT_MS }).then(({ code }) => code);
    },
    stderr: proc.stderr,
    /** Its stdout lines so far. */
    get lines(): string[] {
      return proc.stdoutLines();
    },
  };
}

afterEach(async () => {
  await Promise.all([...children].map((c) => c.stop({ signal: 'SIGKILL' })));
  children.clear();
});

describe('wingman-server bin', () => {
  it('prints {"event":"listening"} with --json, serves /healthz, and exits 0 on SIGTERM', async () => {
    const p = start(['--port', '0', '--json']);
    const ev = JSON.parse(await p.firstLine);
    expect(ev).toEqual({ event: 'listening', url: `http://localhost:${ev.port}`, port: expect.any(Number) });
    const r = await send(ev.port, `localhost:${ev.port}`, { path: '/healthz' });
    expect(JSON.parse(r.body.toString())).toEqual({ ok: true, sessions: 0 });
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('prints one plain line with the URL and exits 0 on SIGINT', async () => {
    const p = start(['--port', '0', '--public-url', 'https://tunnel.example.com', '--domain-is-public-suffix']);
    expect(await p.firstLine).toBe('Wingman tunnel server listening on https://tunnel.example.com');
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
  });

  it('stops with exit code 2 and a line naming the bad variable', async () => {
    const p = start(['--port', '0'], { SESSION_GRACE_MS: 'soon' });
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toBe('wingman-server: SESSION_GRACE_MS: must be a non-negative integer\n');
  });

  it('refuses to start on a non-loopback host with the embedded token, telling to set WINGMAN_TOKENS', async () => {
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine: nothing could listen there anyway.
    const p = start(['--port', '0', '--host', '192.0.2.1']);
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toMatch(
      /^wingman-server: WINGMAN_TOKENS: the embedded local token cannot be used on the non-loopback host 192\.0\.2\.1.*Set WINGMAN_TOKENS/,
    );
  });

  it('keeps answering /healthz on a new connection while a flood of idle connections holds every descriptor it can', async () => {
    const FD_LIMIT = 256;
    const p = start(['--port', '0', '--json'], {}, FD_LIMIT);
    const { port } = JSON.parse(await p.firstLine) as { port: number };
    // More connections than the process has descriptors, from four addresses (each under the per-address quota).
    const flood: Socket[] = [];
    await Promise.all(
      Array.from(
        { length: FD_LIMIT + 144 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % 4)}` });
            flood.push(s);
            s.on('error', () => undefined);
            s.once('connect', () => resolve());
            s.once('close', () => resolve());
          }),
      ),
    );
    try {
      const health = await send(port, `localhost:${port}`, { path: '/healthz' });
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true });
    } finally {
      for (const s of flood) s.destroy();
    }
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('refuses to start on a domain that is not localhost until the operator confirms it is a public suffix', async () => {
    const p = start(['--port', '0', '--public-url', 'https://tunnel.example.com']);
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toMatch(
      /^wingman-server: --domain-is-public-suffix \/ WINGMAN_DOMAIN_PUBLIC_SUFFIX: sessions would live at <id>\.tunnel\.example\.com, which browsers treat as one site unless tunnel\.example\.com is on the Public Suffix List.*docs\/deploy\.md/,
    );
    const confirmed = start(['--port', '0', '--json', '--domain', 'tunnel.example.com'], { WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' });
    expect(JSON.parse(await confirmed.firstLine)).toMatchObject({ event: 'listening', url: 'http://tunnel.example.com' });
  });
});

describe('wingman-server warns at start about links that cannot work', () => {
  /** Everything the server printed, once it has listened and been stopped (stdout and stderr are complete at exit). */
  async function output(args: string[]): Promise<{ stdout: string[]; stderr: string }> {
    // A token of its own (the embedded one is refused off loopback) and the public-suffix confirmation (a real name).
    const p = start(['--port', '0', ...args], { WINGMAN_TOKENS: 'bin-test-token-1234', WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' });
    await p.firstLine;
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    return { stdout: p.lines, stderr: p.stderr() };
  }

  it('when the domain is a bare IP address: session names under it do not resolve', async () => {
    const { stderr } = await output(['--domain', '192.0.2.10']);
    expect(stderr).toContain(
      'wingman-server: warning (WARN_DOMAIN_IS_IP): the session domain is an IP address (192.0.2.10): session links look like http://<id>.192.0.2.10/,',
    );
    expect(stderr).toContain('no browser can resolve a name under an IP address');
    expect(stderr).toContain('wildcard record');
  });

  it('when links are plain http on a real name: no Service Worker, so no P2P, while the relay still works', async () => {
    const { stderr } = await output(['--public-url', 'http://tunnel.example.com']);
    expect(stderr).toContain(
      'wingman-server: warning (WARN_INSECURE_PUBLIC_URL): session links are plain http on tunnel.example.com (http://<id>.tunnel.example.com/).',
    );
    expect(stderr).toContain('no Service Worker, so viewers get no\n  peer-to-peer connection and no cookie bridge; pages still load through the relay.');
    expect(stderr).toContain('--tls-cert <file> --tls-key <file>');
  });

  it('when bound to every interface while links still say localhost', async () => {
    const { stderr } = await output(['--host', '0.0.0.0']);
    expect(stderr).toMatch(
      /warning \(WARN_LOCALHOST_LINKS\): listening on 0\.0\.0\.0, reachable from other machines, but session links are http:\/\/<id>\.localhost:\d+\/:/,
    );
    expect(stderr).toContain('nobody else can open them');
    expect(stderr).toContain('--domain / WINGMAN_DOMAIN or --public-url / PUBLIC_URL');
  });

  it('with --json, as warning events after the listening line', async () => {
    const { stdout } = await output(['--json', '--domain', '192.0.2.10', '--public-url', 'http://tunnel.example.com']);
    const events = stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.event, e.code])).toEqual([
      ['listening', undefined],
      ['warning', 'WARN_DOMAIN_IS_IP'],
      ['warning', 'WARN_INSECURE_PUBLIC_URL'],
    ]);
  });

  it('not for the local default, nor for https links on a real name', async () => {
    for (const args of [[], ['--host', '0.0.0.0', '--public-url', 'https://tunnel.example.com']]) {
      const { stdout, stderr } = await output(['--json', ...args]);
      expect(stdout).toHaveLength(1);
      expect(stderr).not.toContain('WARN_');
    }
  });
});
