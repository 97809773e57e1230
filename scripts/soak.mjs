#!/usr/bin/env node
/**
 * Soak: a real wingman-server and `wingman http` (the built bins) serving 20
 * viewers for a while — HTTP viewers (small GETs, 256 KiB downloads, 64 KiB
 * uploads), WebSocket viewers (an echo every 200 ms, reconnecting every
 * minute) and P2P viewers (`wingman fetch --p2p-only` of a 256 KiB body every
 * 10 s) — sampling both processes' RSS and open descriptors every 30 s. Runs
 * in a loopback-only network namespace (unshare), like the tests. Not in CI.
 *
 *   npm run build && node scripts/soak.mjs [--minutes 20] [--out soak.json]
 *
 * Prints one line per sample and, at the end, the first, last and highest
 * figures; exits 1 when a request failed or a process ended.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { spawnProcess } from './lib/spawn-ready.mjs';
import { delay } from './lib/wait.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_BIN = join(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
const AGENT_BIN = join(ROOT, 'packages/relay-server/dist/bin/wingman.js');
const INSIDE_ENV = 'WINGMAN_SOAK_INSIDE';

/** Viewers of each kind: 20 in all. */
const HTTP_VIEWERS = 12;
const WS_VIEWERS = 5;
const P2P_VIEWERS = 3;
/** Pause between one HTTP viewer's rounds, and between a WebSocket viewer's echoes, ms. */
const HTTP_PAUSE_MS = 200;
const WS_ECHO_MS = 200;
/** A WebSocket viewer reconnects this often (new sockets, as tabs reload). */
const WS_LIFETIME_MS = 60_000;
/** A P2P viewer fetches this often (each fetch is a new peer connection). */
const P2P_EVERY_MS = 10_000;
/** Bodies: the download and the upload. */
const BLOB_BYTES = 256 * 1024;
const UPLOAD_BYTES = 64 * 1024;
/** Sampling period of RSS and descriptors. */
const SAMPLE_MS = 30_000;
/** Bound on one HTTP exchange or one echo. */
const EXCHANGE_TIMEOUT_MS = 30_000;

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const minutes = Number(arg('--minutes', '20'));
const outFile = arg('--out', undefined);
if (!(minutes > 0 && minutes <= 24 * 60)) {
  console.error('--minutes must be 0 < n ≤ 1440');
  process.exit(2);
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}
const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

/** The local app: GET /hello, GET /blob, POST /upload (answers the byte count), WebSocket echo. */
async function startApp() {
  const blob = Buffer.alloc(BLOB_BYTES, 0x61);
  const server = createServer((req, res) => {
    if (req.url === '/hello') return res.end('hello');
    if (req.url === '/blob') return res.writeHead(200, { 'content-length': BLOB_BYTES }).end(blob);
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (c) => (n += c.length));
      return req.on('end', () => res.end(`got ${n}`));
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, maxPayload: 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => (wss.close(), server.closeAllConnections(), server.close()) };
}

/** One HTTP exchange through the session; resolves with the status and body length. */
function exchange(port, host, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host }, agent: false, timeout: EXCHANGE_TIMEOUT_MS }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes: n }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function soak() {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-soak-'));
  const app = await startApp();
  // WINGMAN_PUBLIC: the soak reaches the session by its host name (docs/PROTOCOL.md §Link access is not what it measures).
  const env = { ...process.env, LOG_LEVEL: 'warn', WINGMAN_SERVER_STATE_DIR: join(dir, 'server'), WINGMAN_STATE_DIR: join(dir, 'agent'), WINGMAN_PUBLIC: '1' };
  const server = spawnProcess({ name: 'server', command: process.execPath, args: [SERVER_BIN, '--port', '0', '--json'], env });
  const listening = await server.waitForEvent('listening', { timeoutMs: 30_000 });
  const agent = spawnProcess({
    name: 'agent',
    command: process.execPath,
    args: [AGENT_BIN, 'http', String(app.port), '--server', String(listening.url), '--json', '--inspect', 'false'],
    env,
  });
  const ready = await agent.waitForEvent('ready', { timeoutMs: 30_000 });
  const sessionUrl = String(ready.url);
  const host = new URL(sessionUrl).host;
  const port = Number(listening.port);
  const counts = { http: 0, ws: 0, p2p: 0, p2pExitHangs: 0, failures: 0 };
  const failures = [];
  const fail = (what, err) => {
    counts.failures++;
    if (failures.length < 20) failures.push(`${what}: ${err?.message ?? err}`);
  };
  const deadline = Date.now() + minutes * 60_000;
  const running = () => Date.now() < deadline && server.isRunning() && agent.isRunning();

  const httpViewer = async () => {
    const upload = Buffer.alloc(UPLOAD_BYTES, 0x62);
    while (running()) {
      try {
        const a = await exchange(port, host, 'GET', '/hello');
        const b = await exchange(port, host, 'GET', '/blob');
        const c = await exchange(port, host, 'POST', '/upload', upload);
        if (a.status !== 200 || b.bytes !== BLOB_BYTES || c.status !== 200) throw new Error(`statuses ${a.status} ${b.status}/${b.bytes} ${c.status}`);
        counts.http += 3;
      } catch (err) {
        fail('http', err);
      }
      await delay(HTTP_PAUSE_MS);
    }
  };
  const wsViewer = async () => {
    while (running()) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host } });
      try {
        await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
        const until = Math.min(deadline, Date.now() + WS_LIFETIME_MS);
        while (Date.now() < until && running()) {
          const echoed = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('echo timed out')), EXCHANGE_TIMEOUT_MS);
            ws.once('message', (d) => (clearTimeout(timer), resolve(String(d))));
          });
          ws.send('ping');
          if ((await echoed) !== 'ping') throw new Error('wrong echo');
          counts.ws++;
          await delay(WS_ECHO_MS);
        }
      } catch (err) {
        fail('ws', err);
        await delay(1_000);
      } finally {
        ws.terminate();
      }
    }
  };
  const p2pViewer = async () => {
    while (running()) {
      const started = Date.now();
      const code = await new Promise((resolve) => {
        const child = spawn(process.execPath, [AGENT_BIN, 'fetch', '--p2p-only', `${sessionUrl.replace(/\/$/, '')}/blob`], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), EXCHANGE_TIMEOUT_MS);
        child.on('close', (c) => {
          clearTimeout(timer);
          // `wingman fetch` that answered over P2P but did not exit in time: served, counted apart.
          resolve(c === 0 ? 'ok' : / via p2p /.test(err) ? 'hung' : `exit ${c}: ${err.trim().split('\n').pop()}`);
        });
      });
      if (code === 'ok') counts.p2p++;
      else if (code === 'hung') (counts.p2p++, counts.p2pExitHangs++);
      else fail('p2p', code);
      await delay(Math.max(0, P2P_EVERY_MS - (Date.now() - started)));
    }
  };

  const samples = [];
  const sample = () => {
    const s = {
      minute: Number(((Date.now() - (deadline - minutes * 60_000)) / 60_000).toFixed(1)),
      serverRssMb: rssMb(server.child.pid),
      agentRssMb: rssMb(agent.child.pid),
      serverFds: fds(server.child.pid),
      agentFds: fds(agent.child.pid),
      ...counts,
    };
    samples.push(s);
    console.log(JSON.stringify(s));
  };
  sample();
  const sampler = setInterval(() => running() && sample(), SAMPLE_MS);
  await Promise.all([
    ...Array.from({ length: HTTP_VIEWERS }, httpViewer),
    ...Array.from({ length: WS_VIEWERS }, wsViewer),
    ...Array.from({ length: P2P_VIEWERS }, p2pViewer),
  ]);
  clearInterval(sampler);
  const ended = !server.isRunning() || !agent.isRunning();
  if (!ended) sample();
  await Promise.all([agent.stop(), server.stop()]);
  app.close();
  rmSync(dir, { recursive: true, force: true });

  const pick = (key) => ({ first: samples[0][key], last: samples.at(-1)[key], max: Math.max(...samples.map((s) => s[key])) });
  const summary = {
    minutes,
    viewers: { http: HTTP_VIEWERS, ws: WS_VIEWERS, p2p: P2P_VIEWERS },
    counts,
    serverRssMb: pick('serverRssMb'),
    agentRssMb: pick('agentRssMb'),
    serverFds: pick('serverFds'),
    agentFds: pick('agentFds'),
    failures,
    processEnded: ended,
  };
  console.log(JSON.stringify(summary, null, 1));
  if (outFile) writeFileSync(outFile, JSON.stringify({ summary, samples }, null, 1));
  return counts.failures > 0 || ended ? 1 : 0;
}

if (process.env[INSIDE_ENV] !== '1') {
  // `sh -c`: bring lo up (a new namespace starts with it down), then become node.
  const flags = process.getuid?.() === 0 ? ['-n'] : ['-rn'];
  const child = spawn('unshare', [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE_ENV]: '1' },
  });
  child.on('error', (err) => {
    console.error(`[soak] could not start unshare (util-linux, iproute2): ${err.message}`);
    process.exit(1);
  });
  child.on('close', (code) => process.exit(code ?? 1));
} else {
  process.exitCode = await soak();
}
