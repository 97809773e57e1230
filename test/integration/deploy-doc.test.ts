/**
 * docs/deploy.md as a user types it: every ```sh block of the doc is marked
 * with what it is (`<!-- doc-test: shell|server|agent -->`) and run here, as
 * written, with the installed `wingman-tunnel` package's commands on PATH:
 * shell blocks to their end (the variables they set carry over, as in one
 * terminal), server blocks until they say they listen, the agent block until
 * it prints its link, which then serves a local app over HTTPS.
 *
 * What this machine changes, and only that: the certificate paths of the
 * built-in TLS block point at a certificate for tunnel.example.com and
 * *.tunnel.example.com from a CA made here (agents trust it with
 * NODE_EXTRA_CA_CERTS, as the doc says for a private CA), and the blocks run
 * in a mount namespace whose /etc/hosts maps tunnel.example.com to 127.0.0.1
 * (the DNS record of §1). Ports 443, 8080 and 3000 are the doc's own: the
 * test runs in `npm test`'s loopback-only network namespace, where they are
 * free and reach nothing else.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINK_TOKEN_HEADER, splitLinkKey } from '@wingman/protocol';
import { linkTokenOf } from '../../packages/relay-server/src/agent/link-verifier';
import { installedPackageForFile } from '../helpers/installed-package';
import { killAll, ROOT, startCommand, type Proc } from '../helpers/processes';
import { createTestCa, type TestCa } from '../helpers/test-ca';
import { docBlocks } from '../../scripts/lib/doc-blocks.mjs';

jest.setTimeout(90_000);

const DOC = join(ROOT, 'docs/deploy.md');
const DOMAIN = 'tunnel.example.com';
/** The doc's local app port (`wingman http 3000`). */
const APP_PORT = 3000;
/** A shell block runs `openssl rand` and the like: seconds at most. */
const SHELL_TIMEOUT_MS = 30_000;
/** Server start and agent registration take about a second here; generous for a loaded machine. */
const START_TIMEOUT_MS = 30_000;

const installed = installedPackageForFile();
let ca: TestCa;
let work: string;
let app: Server;
/** The variables the shell blocks set, handed to the blocks after them. */
let shellEnv: Record<string, string> = {};

beforeAll(async () => {
  const interfaces = Object.keys(networkInterfaces());
  if (interfaces.some((name) => name !== 'lo'))
    throw new Error(
      `run this test through \`npm test\` (a loopback-only network namespace): it binds the doc's ports 443 and 8080; interfaces here: ${interfaces.join(', ')}`,
    );
  ca = createTestCa({ name: 'Wingman deploy doc test CA' });
  work = mkdtempSync(join(tmpdir(), 'wingman-deploy-doc-'));
  writeFileSync(join(work, 'hosts'), `127.0.0.1 localhost\n127.0.0.1 ${DOMAIN}\n`);
  app = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`app on ${APP_PORT}: ${req.method} ${req.url}`));
  await new Promise<void>((resolve, reject) => app.once('error', reject).listen(APP_PORT, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  ca?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(async () => {
  await killAll();
});

/** What this machine changes in a block: the certificate files. */
function localized(text: string): string {
  const cert = ca.issue('tunnel', { serialHex: '0d0c', altNames: [`DNS:${DOMAIN}`, `DNS:*.${DOMAIN}`] });
  return text.replace(`/etc/letsencrypt/live/${DOMAIN}/fullchain.pem`, cert.certFile).replace(`/etc/letsencrypt/live/${DOMAIN}/privkey.pem`, cert.keyFile);
}

/** The environment of a block: the installed commands first on PATH, the shell blocks' variables, the private CA for agents. */
function blockEnv(): Record<string, string> {
  return {
    ...shellEnv,
    PATH: `${join(installed().prefix, 'bin')}:${process.env.PATH ?? ''}`,
    NODE_EXTRA_CA_CERTS: ca.caFile,
    WINGMAN_STATE_DIR: join(work, 'agent-state'),
    WINGMAN_SERVER_STATE_DIR: join(work, 'server-state'),
  };
}

/** Runs a shell block to its end in bash; returns its output and keeps the variables it set. */
function runShell(text: string): Promise<string> {
  const envFile = join(work, 'shell.env');
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', `set -a\n${text}\nenv -0 > "$DOC_TEST_ENV_OUT"`],
      { env: { ...process.env, ...blockEnv(), DOC_TEST_ENV_OUT: envFile }, timeout: SHELL_TIMEOUT_MS },
      (err, out, errOut) => {
        if (err) return reject(new Error(`shell block failed: ${err.message}\n${errOut}`));
        const vars = readFileSync(envFile, 'utf8').split('\0').filter(Boolean);
        shellEnv = Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]).filter(([k]) => !(k! in process.env)));
        resolve(out);
      },
    );
  });
}

/** Starts a long-running block (a server, an agent) in bash, in a mount namespace whose /etc/hosts names tunnel.example.com. */
function startBlock(text: string): Proc {
  return startCommand('unshare', ['-m', 'sh', '-c', 'mount --bind "$DOC_TEST_HOSTS" /etc/hosts && exec bash -c "$DOC_TEST_BLOCK"'], {
    ...blockEnv(),
    DOC_TEST_HOSTS: join(work, 'hosts'),
    DOC_TEST_BLOCK: localized(text),
  });
}

function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(u.port || 443), path: u.pathname, servername: u.hostname, headers: { host: u.host, ...headers }, ca: ca.caPem },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('docs/deploy.md, run as written', () => {
  const blocks = docBlocks(readFileSync(DOC, 'utf8'));
  const [proxied, builtInTls] = blocks.filter((b) => b.role === 'server');
  const shells = blocks.filter((b) => b.role === 'shell');
  const agent = blocks.find((b) => b.role === 'agent');

  it('marks every command block, and has the token, the two servers (§3 behind a proxy, §3b with its own TLS) and the agent', () => {
    expect(blocks.map((b) => b.role)).toEqual(['shell', 'server', 'agent', 'server']);
  });

  it('§3: the token block prints a token, and the server behind the proxy starts with https links on the domain', async () => {
    for (const b of shells) expect(await runShell(b.text)).toMatch(/^agent token: [0-9a-f]{48}$/m);
    expect(shellEnv.TOKEN).toMatch(/^[0-9a-f]{48}$/);
    const server = startBlock(proxied!.text);
    await server.waitForLine((l) => l === `Wingman tunnel server listening on https://${DOMAIN}`, { stream: 'stdout', timeoutMs: START_TIMEOUT_MS });
  });

  it('§3b: the server with its own TLS starts on 443, and the agent block shares the app on port 3000 over an https link', async () => {
    for (const b of shells) await runShell(b.text);
    const server = startBlock(builtInTls!.text);
    await server.waitForLine((l) => l === `Wingman tunnel server listening on https://${DOMAIN}`, { stream: 'stdout', timeoutMs: START_TIMEOUT_MS });
    const sharing = startBlock(agent!.text);
    const line = await sharing.waitForLine(new RegExp(`https://[a-z2-7]{26}\\.${DOMAIN.replace(/\./g, '\\.')}/`), {
      stream: 'stdout',
      timeoutMs: START_TIMEOUT_MS,
    });
    const link = new RegExp(`https://[a-z2-7]{26}\\.${DOMAIN.replace(/\./g, '\\.')}/#k=[A-Za-z0-9_-]{22}`).exec(line)![0];
    const url = link.slice(0, link.indexOf('#'));
    // The host alone opens nothing; the link's token (what a browser derives from #k=) does.
    expect((await httpsGet(`${url}hello`)).status).toBe(403);
    const token = linkTokenOf(splitLinkKey(new URL(link).hash).key!);
    const page = await httpsGet(`${url}hello`, { [LINK_TOKEN_HEADER]: token });
    expect(page).toEqual({ status: 200, body: `app on ${APP_PORT}: GET /hello` });
  });
});
