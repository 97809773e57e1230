/**
 * `wingman http` and `wingman fetch` (the built bin, real processes) pointed
 * at a server that is not there or not right: a closed port, a name that does
 * not resolve (`.invalid`, RFC 6761: never resolves; the test namespace has
 * no network, so no query leaves the machine), https against a plain HTTP
 * server and the reverse (a local TLS server with a certificate made here
 * with openssl). Each says what is wrong and what to do after the first
 * failure; what can heal is retried, what cannot ends with a documented exit code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { AGENT_BIN, killAll, runWingmanFetch, startProcess, startServer, type Proc } from '../helpers/processes';

jest.setTimeout(60_000);

let app: FixtureApp;
let stateDir: string;
let tls: { key: Buffer; cert: Buffer };
const servers: Server[] = [];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

beforeEach(async () => {
  app = await startFixtureApp();
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-wrong-server-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  rmSync(stateDir, { recursive: true, force: true });
});

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createHttpServer();
  const port = await listen(s);
  servers.splice(servers.indexOf(s), 1);
  await new Promise((r) => s.close(r));
  return port;
}

function agent(server: string, args: string[] = [], env: Record<string, string> = {}): Proc {
  return startProcess(AGENT_BIN, ['http', String(app.port), '--server', server, '--no-p2p', ...args], { WINGMAN_STATE_DIR: stateDir, ...env });
}

/** The agent's exit code (fails the test if it is still running after `timeoutMs`). */
async function exitCode(proc: Proc, timeoutMs = 30_000): Promise<number | null> {
  return (await proc.waitForExit({ timeoutMs })).code;
}

/** Waits until a line of the agent's stderr matches (bounded; fails at once if the agent exits). */
async function stderrMatches(proc: Proc, re: RegExp, timeoutMs = 20_000): Promise<string> {
  await proc.waitForLine(re, { stream: 'stderr', timeoutMs });
  return proc.stderr();
}

describe('wingman http', () => {
  it('says after the first failure that the server refuses connections and what to check, keeps retrying, and connects once the server starts', async () => {
    const port = await closedPort();
    const proc = agent(`http://127.0.0.1:${port}`, ['--json']);
    const err = await stderrMatches(proc, /"attempt":1/);
    const first = JSON.parse(err.split('\n').find((l) => l.includes('"attempt":1'))!) as { reason: string };
    expect(first.reason).toBe(`cannot reach the tunnel server at http://127.0.0.1:${port}: connection refused — is it running? check --server`);
    await stderrMatches(proc, /"attempt":2/);
    await startServer({}, ['--port', String(port)]);
    expect(await proc.waitFor((e) => e.event === 'ready', 45_000)).toMatchObject({ url: expect.stringContaining(`.localhost:${port}/`) });
    await proc.kill('SIGTERM');
    expect(proc.child.exitCode).toBe(0);
  });

  it("gives up with exit code 3 when the server's name does not resolve, naming the host", async () => {
    const proc = agent('http://wingman-test.invalid:8080', ['--json']);
    expect(await exitCode(proc)).toBe(3);
    expect(proc.events.at(-1)).toMatchObject({
      event: 'fatal',
      code: 'ERR_SERVER_NOT_FOUND',
      message: expect.stringMatching(/^cannot resolve host wingman-test\.invalid \(E[A-Z_]+\) — check --server/),
    });
    // It said so after the first attempt already, before giving up.
    expect(proc.stderr()).toMatch(/"attempt":1,.*cannot resolve host wingman-test\.invalid/);
  });

  it('gives up with exit code 4 when told https:// for a plain HTTP tunnel server, suggesting http://', async () => {
    const { port } = await startServer();
    const proc = agent(`https://127.0.0.1:${port}`);
    expect(await exitCode(proc)).toBe(4);
    expect(proc.stderr()).toContain(
      `error: the server at https://127.0.0.1:${port} does not speak TLS (https) — check the scheme: try http://127.0.0.1:${port}`,
    );
  });

  it('gives up with exit code 4 when told http:// for a TLS server, suggesting https://', async () => {
    const port = await listen(createHttpsServer(tls, (_req, res) => res.end('tls')));
    const proc = agent(`http://127.0.0.1:${port}`);
    expect(await exitCode(proc)).toBe(4);
    expect(proc.stderr()).toContain(
      `error: the server at http://127.0.0.1:${port} speaks TLS (https), not plain http — check the scheme: try https://127.0.0.1:${port}`,
    );
  });

  it('gives up with exit code 4 on a TLS certificate it cannot trust, saying so', async () => {
    const port = await listen(createHttpsServer(tls, (_req, res) => res.end('tls')));
    const proc = agent(`https://127.0.0.1:${port}`);
    expect(await exitCode(proc)).toBe(4);
    expect(proc.stderr()).toMatch(new RegExp(`error: the TLS certificate of https://127\\.0\\.0\\.1:${port} is not trusted \\(self-signed certificate\\)`));
  });

  it('gives up with exit code 4 when the server answers the agent endpoint with a 404 page', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>')));
    const proc = agent(`http://127.0.0.1:${port}`);
    expect(await exitCode(proc)).toBe(4);
    expect(proc.stderr()).toContain(`error: the server at http://127.0.0.1:${port} answered HTTP 404`);
  });

  it('gives up with exit code 4 when --server names a path the tunnel server does not serve, naming the path and its root', async () => {
    const { port } = await startServer();
    const proc = agent(`http://127.0.0.1:${port}/tunnel`);
    expect(await exitCode(proc)).toBe(4);
    expect(proc.stderr()).toContain(
      `error: the server at http://127.0.0.1:${port} answered HTTP 404 for /tunnel/__wingman/agent: no tunnel server under the path "/tunnel" — check the path in --server (a tunnel server answers at its root, e.g. --server http://127.0.0.1:${port}, unless a proxy maps it under a path)`,
    );
    expect(proc.stderr()).not.toContain('not a Wingman tunnel server');
  });

  it('gives up with exit code 5 when the server refuses the token', async () => {
    const { url } = await startServer();
    const proc = agent(url, [], { WINGMAN_TOKEN: 'not-the-right-token' });
    expect(await exitCode(proc)).toBe(5);
    expect(proc.stderr()).toContain('error: the tunnel server refused the token (check --token or WINGMAN_TOKEN)');
  });
});

describe('wingman fetch', () => {
  it('says the server refuses connections (exit code 1)', async () => {
    const port = await closedPort();
    const r = await runWingmanFetch(['--relay-only', `http://abc.localhost:${port}/`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach the server at http://abc.localhost:${port}: connection refused — is it running?`);
  });

  it('exits 3 when the name does not resolve, and 4 when the scheme is wrong', async () => {
    const unresolved = await runWingmanFetch(['--relay-only', 'http://abc.wingman-test.invalid/']);
    expect(unresolved.code).toBe(3);
    expect(unresolved.err).toMatch(/cannot resolve host abc\.wingman-test\.invalid/);
    const port = await listen(createHttpsServer(tls, (_req, res) => res.end('tls')));
    const wrong = await runWingmanFetch(['--relay-only', `http://abc.localhost:${port}/`]);
    expect(wrong.code).toBe(4);
    expect(wrong.err).toContain(`speaks TLS (https), not plain http — check the scheme: try https://abc.localhost:${port}`);
  });
});
