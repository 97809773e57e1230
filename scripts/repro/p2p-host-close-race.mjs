/**
 * Reproduces the P2P host's SIGSEGV (WARN_P2P_HOST_CRASHED): one tunnel
 * server, one agent, and a loop of @roamhq/wrtc viewers in one child process
 * (p2p-host-close-race-viewers.cjs). In mode `midbody` each viewer asks for
 * three 4 MB bodies and closes its peer connection (no bye, like a tab going
 * away) after the first chunk, while the host is still sending.
 * Measured: 1 to 4 host crashes per 100 such viewers (every run of 100 had one), 24 to 29 with the
 * data-channel transport's readyState read before each send taken out (protocol/src/transports/data-channel.ts);
 * 0 in 340 viewers that closed with nothing in flight (modes close, abrupt, leave, mix).
 * The core's backtrace: RTCDataChannel::Send dereferencing a null
 * _jingleDataChannel, nulled meanwhile by the signaling thread
 * (RTCDataChannel::OnStateChange -> CleanupInternals) as the viewer's close arrives.
 *
 * Run after `npm run build`, inside a loopback-only namespace, with cores on:
 *   unshare -rn sh -c 'ip link set lo up && ulimit -c unlimited && exec node scripts/repro/p2p-host-close-race.mjs 100 midbody'
 * then `gdb -batch -ex bt "$(which node)" <STATE_DIR>/core` (core_pattern `core`: the agent's cwd).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const STATE_DIR = mkdtempSync(join(tmpdir(), 'wingman-host-crash-'));
console.log('state and core dir', STATE_DIR);
const [n = '40', mode = 'mix'] = process.argv.slice(2);
const app = http
  .createServer((q, s) => {
    const n = Number(new URL(q.url, 'http://x').searchParams.get('n') ?? 0);
    if (!n) return s.end('hello');
    s.end(Buffer.alloc(n, 120));
  })
  .listen(0, '127.0.0.1');
await new Promise((r) => app.once('listening', r));
const appPort = app.address().port;
const lines = (p, name, onJson) => {
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    try {
      onJson(JSON.parse(l));
    } catch {
      /* not a JSON line */
    }
  });
  readline.createInterface({ input: p.stderr }).on('line', (l) => process.stderr.write(`[${name}] ${l}\n`));
};
const t0 = Date.now();
const server = spawn(process.execPath, [`${ROOT}/packages/tunnel-server/dist/bin/wingman-server.js`, '--port', '0', '--json'], {
  env: { ...process.env, LOG_LEVEL: 'warn', WINGMAN_SERVER_STATE_DIR: join(STATE_DIR, 'server') },
});
const serverUrl = await new Promise((r) => lines(server, 'server', (e) => e.event === 'listening' && r(e.url)));
const agent = spawn(process.execPath, [`${ROOT}/packages/relay-server/dist/bin/wingman.js`, 'http', String(appPort), '--server', serverUrl, '--json'], {
  cwd: STATE_DIR,
  env: { ...process.env, WINGMAN_PUBLIC: '1', WINGMAN_STATE_DIR: join(STATE_DIR, 'agent') },
});
let crashedAt;
let last = 0;
const ready = new Promise((r) =>
  lines(agent, 'agent', (e) => {
    if (e.event === 'ready') r(e);
    if (e.event === 'peer' && /P2P host ended/.test(String(e.reason))) console.log('PEER-ENDED', JSON.stringify(e));
  }),
);
agent.stderr.on('data', (d) => {
  if (String(d).includes('WARN_P2P_HOST_CRASHED')) {
    crashedAt = `${crashedAt ? crashedAt + ',' : ''}${last}`;
    console.log(`CRASH after viewer #${last} at ${Date.now() - t0} ms`);
  }
});
const ev = await ready;
const host = new URL(ev.url).host;
console.log('agent ready', ev.url);
const viewer = spawn(process.execPath, [join(HERE, 'p2p-host-close-race-viewers.cjs'), ev.url, host, n, mode], { env: process.env });
await new Promise((resolve) => {
  lines(viewer, 'viewer', (e) => {
    if (e.i) last = e.i;
    if (e.done || e.error) {
      console.log('viewer', JSON.stringify(e));
    }
  });
  viewer.on('exit', (code, sig) => {
    console.log('viewer exit', code, sig);
    resolve();
  });
});
await new Promise((r) => setTimeout(r, 3000));
console.log(`RESULT n=${n} mode=${mode} viewers=${last} crashedAfter=${crashedAt ?? 'none'} ms=${Date.now() - t0}`);
agent.kill();
server.kill();
app.close();
setTimeout(() => process.exit(0), 500);
