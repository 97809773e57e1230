#!/usr/bin/env node
/**
 * docs/deploy.md's main path, run end to end in lab namespaces: the
 * wildcard DNS record, Caddy with on-demand TLS asking wingman-server's
 * permission check (deploy/Caddyfile), `wingman-server` started with the
 * doc's own command, the developer's `wingman http 3000` with the doc's own
 * command, and a reviewer's Chromium that opens the link over HTTPS and goes
 * peer-to-peer. The certificate authority is Debian's `pebble` (Let's
 * Encrypt's ACME test server), which validates each name over the lab
 * network (HTTP-01 / TLS-ALPN-01 against Caddy), resolving names with
 * `pebble-challtestsrv`'s DNS server.
 *
 *   public ns 10.231.B.1: pebble-challtestsrv (DNS: every name → 10.231.B.1),
 *                         pebble (ACME on :14000), Caddy (:80, :443),
 *                         wingman-server (127.0.0.1:8080, the doc's §3 command)
 *   dev ns:      the app on port 3000, `wingman http 3000 …` (the doc's command)
 *   reviewer ns: headless Chromium (scripts/lab/reviewer.mjs)
 *
 * What this machine changes, and only that (as the deploy doc test does):
 * the ACME CA is pebble (two global options added to deploy/Caddyfile), its
 * root is private, so agents and the reviewer trust it as docs/deploy.md
 * §"A private CA" says (NODE_EXTRA_CA_CERTS; certutil into the NSS database),
 * and names resolve through the lab's DNS (Caddy and pebble) or a hosts file
 * / Chromium's host rules (the agent, the reviewer): the DNS record of §1.
 *
 * Prints one JSON line: what pebble issued, what Caddy asked for, what a
 * probe of names that are no session got, and the reviewer's result.
 * Needs root, iproute2, caddy, pebble, certutil (libnss3-tools), curl,
 * chromium; the bins built (npm run build).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docBlocks } from '../lib/doc-blocks.mjs';
import { spawnProcess } from '../lib/spawn-ready.mjs';
import { createTestCa } from '../lib/test-ca.cjs';
import { cleanupStaleRuns, destroyNamespaces, inNs, listNamespaces, runPrefix } from './netns.mjs';
import { buildTopology } from './topology.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REVIEWER = join(ROOT, 'scripts/lab/reviewer.mjs');
const FIXTURE_APP = join(ROOT, 'scripts/lab/fixture-app.mjs');
/** The doc's domain, used as is: the lab's DNS answers it. */
const DOMAIN = 'tunnel.example.com';
/** The doc's local app port (`wingman http 3000`). */
const APP_PORT = 3000;
/** Each process is up within a second or two; 30 s covers a loaded 2-core machine. */
const START_TIMEOUT_MS = 30_000;
/** The agent's first connection waits for the apex certificate (an ACME order: about a second here). */
const AGENT_TIMEOUT_MS = 60_000;
/** The reviewer's whole visit, the session host's first certificate included. */
const REVIEWER_TIMEOUT_MS = 120_000;
/** Scenario block index (third octet 16 × index): its own addresses. */
const INDEX = 14;
/** Names probed that are no session: a word, and a random session id's shape. */
const PROBED = [`scanner-probe.${DOMAIN}`, `aaaaaaaaaaaaaaaaaaaaaaaaaa.${DOMAIN}`];

/** A process in a namespace whose every output line is kept (the logs are what the result reads). */
function startIn(ns, name, command, args, env = {}) {
  const lines = [];
  const proc = spawnProcess({
    name,
    command: 'ip',
    args: ['netns', 'exec', ns, command, ...args],
    env: { ...process.env, ...env },
    stopGraceMs: 3_000,
    onStdoutLine: (l) => lines.push(l),
    onStderrLine: (l) => lines.push(l),
  });
  return { proc, lines };
}

/** The doc's blocks by role. */
function docSteps() {
  const blocks = docBlocks(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8'));
  const shell = blocks.filter((b) => b.role === 'shell');
  const server = blocks.find((b) => b.role === 'server');
  const agent = blocks.find((b) => b.role === 'agent');
  if (shell.length === 0 || !server || !agent) throw new Error('docs/deploy.md lacks its token, server or agent block');
  return { shell, server, agent };
}

/** deploy/Caddyfile with the ACME CA pointed at pebble: two lines in its global options, nothing else. */
function caddyfileFor(acmeDirectory, acmeRootFile) {
  const original = readFileSync(join(ROOT, 'deploy/Caddyfile'), 'utf8');
  const opened = original.replace(/^\{\n/m, `{\n\tacme_ca ${acmeDirectory}\n\tacme_ca_root ${acmeRootFile}\n`);
  if (opened === original) throw new Error('deploy/Caddyfile has no global options block');
  return opened;
}

/** The Caddy log's JSON entries with this message. */
const caddyEntries = (lines, msg) =>
  lines
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .filter((e) => e && e.msg === msg);

async function main() {
  cleanupStaleRuns();
  const prefix = `${runPrefix()}caddy-`;
  const dir = mkdtempSync(join(tmpdir(), 'wmlab-caddy-'));
  const started = [];
  const result = { event: 'result', error: null };
  let apiCa;
  const log = (s) => process.stderr.write(`[caddy-lab] ${s}\n`);
  try {
    const topology = buildTopology({ prefix, index: INDEX, name: 'caddy', routers: [{ nat: 'none', hosts: ['dev', 'reviewer'] }] });
    const { publicNs, publicIp, ns } = topology;

    // Pebble's own API speaks HTTPS: a certificate from a throwaway CA that Caddy is told to trust.
    apiCa = createTestCa({ name: 'Pebble API CA (lab)' });
    const api = apiCa.issue('pebble-api', { serialHex: '01', altNames: [`IP:${publicIp}`] });
    writeFileSync(
      join(dir, 'pebble.json'),
      JSON.stringify({
        pebble: {
          listenAddress: `${publicIp}:14000`,
          managementListenAddress: `${publicIp}:15000`,
          certificate: api.certFile,
          privateKey: api.keyFile,
          httpPort: 80,
          tlsPort: 443,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const dns = startIn(publicNs, 'pebble-challtestsrv', 'pebble-challtestsrv', [
      '-defaultIPv4',
      publicIp,
      '-defaultIPv6',
      '',
      '-dns01',
      '127.0.0.1:8053',
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-management',
      '127.0.0.1:8055',
    ]);
    started.push(dns.proc);
    await dns.proc.waitForLine(/Starting management server/, { stream: 'both', timeoutMs: START_TIMEOUT_MS });
    // No random delays nor refused nonces: what pebble does to test clients' retries is not under test here.
    const pebble = startIn(publicNs, 'pebble', 'pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', '127.0.0.1:8053'], {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
    });
    started.push(pebble.proc);
    await pebble.proc.waitForLine(/Listening on: /, { stream: 'both', timeoutMs: START_TIMEOUT_MS });
    log(`pebble on ${publicIp}:14000, its DNS on 127.0.0.1:8053`);

    // The commands of the doc, on PATH as `npm install -g` puts them.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const [name, file] of [
      ['wingman-server', 'packages/tunnel-server/dist/bin/wingman-server.js'],
      ['wingman', 'packages/relay-server/dist/bin/wingman.js'],
    ]) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, file)}" "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    const steps = docSteps();
    // The shell blocks' variables (the token) carry over to the later blocks, as in one terminal.
    const shellVars = {};
    for (const b of steps.shell) {
      const out = execFileSync('bash', ['-c', `set -a\n${b.text} >&2\nenv -0`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const v of out.split('\0').filter(Boolean)) {
        const k = v.slice(0, v.indexOf('='));
        if (!(k in process.env) && /^[A-Z_][A-Z0-9_]*$/.test(k)) shellVars[k] = v.slice(k.length + 1);
      }
    }
    const docEnv = (extra) => ({ ...shellVars, PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra });

    const server = startIn(publicNs, 'wingman-server', 'bash', ['-c', steps.server.text], docEnv({ WINGMAN_SERVER_STATE_DIR: join(dir, 'server-state') }));
    started.push(server.proc);
    await server.proc.waitForLine((l) => l === `Wingman tunnel server listening on https://${DOMAIN}`, { stream: 'stdout', timeoutMs: START_TIMEOUT_MS });
    log('wingman-server on 127.0.0.1:8080 (the doc §3 command)');

    writeFileSync(join(dir, 'Caddyfile'), caddyfileFor(`https://${publicIp}:14000/dir`, apiCa.caFile));
    const caddy = startIn(publicNs, 'caddy', 'caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], {
      HOME: dir,
      XDG_DATA_HOME: join(dir, 'caddy-data'),
      XDG_CONFIG_HOME: join(dir, 'caddy-config'),
    });
    started.push(caddy.proc);
    await caddy.proc.waitForLine(/serving initial configuration/, { stream: 'both', timeoutMs: START_TIMEOUT_MS });
    log('caddy on :80 and :443 (deploy/Caddyfile, ACME CA: pebble)');

    // Pebble's root signs what it issues; it is new each run: a private CA, trusted as the doc says.
    const root = inNs(publicNs, 'curl', '-sS', '--max-time', '10', '--cacert', apiCa.caFile, `https://${publicIp}:15000/roots/0`);
    if (!root.includes('BEGIN CERTIFICATE')) throw new Error(`pebble gave no root certificate: ${root.slice(0, 200)}`);
    const rootFile = join(dir, 'ca.pem');
    writeFileSync(rootFile, root);
    const home = join(dir, 'reviewer-home');
    mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
    execFileSync('certutil', ['-N', '-d', `sql:${home}/.pki/nssdb`, '--empty-password'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // docs/deploy.md §"A private CA", Chromium on Linux: the same command.
    execFileSync('certutil', ['-d', `sql:${home}/.pki/nssdb`, '-A', '-t', 'C,,', '-n', 'My CA', '-i', rootFile], { stdio: ['ignore', 'ignore', 'inherit'] });

    // The developer: the app on port 3000 and the doc's command, in a mount namespace whose hosts file is the DNS record of §1.
    const app = startIn(ns.dev, 'fixture-app', process.execPath, [FIXTURE_APP, '127.0.0.1', String(APP_PORT)]);
    started.push(app.proc);
    await app.proc.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS, 'listening');
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n${publicIp} ${DOMAIN}\n`);
    const agent = startIn(
      ns.dev,
      'wingman',
      'unshare',
      ['-m', 'sh', '-c', 'mount --bind "$DOC_HOSTS" /etc/hosts && exec bash -c "$DOC_BLOCK"'],
      docEnv({
        DOC_HOSTS: join(dir, 'hosts'),
        DOC_BLOCK: steps.agent.text,
        NODE_EXTRA_CA_CERTS: rootFile,
        WINGMAN_STATE_DIR: join(dir, 'agent-state'),
        // The reviewer opens the session by its host name (link access is not what this lab measures).
        WINGMAN_PUBLIC: '1',
      }),
    );
    started.push(agent.proc);
    const linkPattern = new RegExp(`https://[a-z2-7]{26}\\.${DOMAIN.replace(/\./g, '\\.')}/`);
    const line = await agent.proc.waitForLine(linkPattern, { stream: 'stdout', timeoutMs: AGENT_TIMEOUT_MS });
    const url = linkPattern.exec(line)[0];
    result.url = url;
    result.sessionHost = new URL(url).hostname;
    log(`agent ready: ${url}`);
    const issuedBeforeVisit = caddyEntries(caddy.lines, 'certificate obtained successfully').map((e) => e.identifier);

    const reviewer = startIn(
      ns.reviewer,
      'reviewer',
      process.execPath,
      [
        REVIEWER,
        JSON.stringify({ url, serverIp: publicIp, nssHome: home, p2pWaitMs: 20_000, settleMs: 0, downloadBytes: 1_048_576, uploadBytes: 0, smallCount: 5 }),
      ],
      {},
    );
    started.push(reviewer.proc);
    const seen = await reviewer.proc.waitFor((e) => e.event === 'result', REVIEWER_TIMEOUT_MS, 'the reviewer result');
    const { event: _event, ...reviewed } = seen;
    result.reviewer = reviewed;

    // Scanners: TLS handshakes for names that are no session, from the reviewer's host.
    result.probes = PROBED.map((name) => {
      const r = spawnSync(
        'ip',
        ['netns', 'exec', ns.reviewer, 'curl', '-sS', '--max-time', '15', '--cacert', rootFile, '--resolve', `${name}:443:${publicIp}`, `https://${name}/`],
        { encoding: 'utf8', timeout: 30_000 },
      );
      return { name, curlExit: r.status, error: (r.stderr ?? '').trim().slice(0, 200) };
    });
    const ask = (name) => inNs(publicNs, 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:8080/__wingman/tls-ask?domain=${name}`);
    result.askAnswers = Object.fromEntries([DOMAIN, result.sessionHost, ...PROBED].map((n) => [n, Number(ask(n))]));

    result.issuedBeforeVisit = issuedBeforeVisit;
    result.issued = caddyEntries(caddy.lines, 'certificate obtained successfully').map((e) => e.identifier);
    result.onDemandRequested = caddyEntries(caddy.lines, 'obtaining new certificate').map((e) => e.server_name);
    result.pebbleOrders = pebble.lines.filter((l) => /Added order /.test(l)).length;
    result.pebbleIssued = pebble.lines.filter((l) => /Issued certificate serial /.test(l)).length;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    for (const p of started) process.stderr.write(`--- ${p.name}\n${p.tail()}\n`);
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
    const problems = destroyNamespaces(listNamespaces(prefix));
    if (problems.length > 0) result.error = [result.error, ...problems].filter(Boolean).join('; ');
    result.namespacesLeft = listNamespaces(prefix);
    rmSync(dir, { recursive: true, force: true });
    apiCa?.remove();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.error ? 1 : 0;
}

await main();
