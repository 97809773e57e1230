#!/usr/bin/env node
/**
 * `npm start [-- <port>|<host:port>]`: the README's first command. Starts a
 * local tunnel server (wingman-server) and an agent (`wingman http <target>`)
 * on embedded defaults and prints the session URL. With no target it first
 * starts a small demo app on a free port and shares that.
 * `prestart` (scripts/lib/ensure-deps.mjs + npm run build) has installed and
 * built everything by the time this runs.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatAgentEvent } from './lib/agent-events.mjs';
import { spawnProcess } from './lib/spawn-ready.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_BIN = join(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
const AGENT_BIN = join(ROOT, 'packages/relay-server/dist/bin/wingman.js');
/** The tunnel server's default port (README, .env.example). */
const DEFAULT_SERVER_PORT = 8080;
/** The server listens in well under a second; 20 s covers a cold start on a busy machine. */
const SERVER_READY_TIMEOUT_MS = 20_000;
/** Registration is one round trip on loopback; 30 s leaves room for the agent's first backoff. */
const AGENT_READY_TIMEOUT_MS = 30_000;

const USAGE = `Usage: npm start [-- [<port>|<host:port>] [options]]

Shares a local port through a local Wingman tunnel server and prints the link.
With no port, shares a small demo app.

Options:
  --server-port <n>   port of the local tunnel server (env PORT, default ${DEFAULT_SERVER_PORT}; 0 = any free port)
  --server <url>      use this tunnel server instead of starting one
  --token <t>         agent token for --server (env WINGMAN_TOKEN)
  --no-p2p            relay only (passed to the agent)
  --host-header <h>   Host header sent to the local app (passed to the agent)
  --password <pw>     viewers must enter this password (passed to the agent)
  --verbose           show the server's and agent's logs
  -h, --help          show this help`;

let options;
try {
  options = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      'server-port': { type: 'string' },
      server: { type: 'string' },
      token: { type: 'string' },
      'no-p2p': { type: 'boolean' },
      'host-header': { type: 'string' },
      password: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail(`${err.message}\n\n${USAGE}`);
}
if (options.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.positionals.length > 1) fail(`expected at most one port, got: ${options.positionals.join(' ')}\n\n${USAGE}`);

const target = options.positionals[0];
if (target !== undefined && !isTarget(target)) fail(`"${target}" is not a port (1-65535) or host:port`);
const serverPort = parsePort(options.values['server-port'] ?? process.env.PORT ?? String(DEFAULT_SERVER_PORT), '--server-port / PORT');
const verbose = options.values.verbose === true;
const externalServer = options.values.server;
if (externalServer !== undefined && !/^https?:\/\/[^\s]+$/.test(externalServer)) fail(`--server must be an http:// or https:// URL, got "${externalServer}"`);

// running: the URL is printed; before that, main()'s own error path reports a child's death.
const state = { demo: null, server: null, agent: null, stopping: false, running: false };
process.on('SIGINT', () => void shutdown(0, 'stopping…'));
process.on('SIGTERM', () => void shutdown(0));

try {
  await main();
} catch (err) {
  console.error(`\nwingman: ${err.message}`);
  for (const [name, child] of [
    ['server', state.server],
    ['agent', state.agent],
  ]) {
    if (child && child.tail()) console.error(`\nlast output of the ${name}:\n${indent(child.tail())}`);
  }
  await shutdown(1);
}

async function main() {
  let shared = target;
  if (shared === undefined) {
    const { createDemoApp } = await import('./lib/demo-app.mjs');
    state.demo = await createDemoApp();
    shared = String(state.demo.port);
  }

  let serverUrl = externalServer;
  if (serverUrl === undefined) {
    if (serverPort !== 0) await assertPortFree(serverPort);
    state.server = startBin('server', SERVER_BIN, ['--port', String(serverPort), '--json'], { env: { ...process.env, PORT: String(serverPort) } });
    watchUnexpectedExit('server', state.server);
    const listening = await state.server.waitForEvent('listening', { timeoutMs: SERVER_READY_TIMEOUT_MS, what: 'its "listening" event' });
    serverUrl = typeof listening.url === 'string' ? listening.url : `http://localhost:${serverPort}`;
  }

  const agentArgs = ['http', shared, '--server', serverUrl, '--json'];
  // Our own server is always new, so a session saved by an earlier run cannot resume.
  if (externalServer === undefined) agentArgs.push('--new-session');
  if (options.values.token !== undefined) agentArgs.push('--token', options.values.token);
  if (options.values['no-p2p']) agentArgs.push('--no-p2p');
  if (options.values['host-header'] !== undefined) agentArgs.push('--host-header', options.values['host-header']);
  if (options.values.password !== undefined) agentArgs.push('--password', options.values.password);
  state.agent = startBin('agent', AGENT_BIN, agentArgs, {
    onEvent: (e) => printAgentEvent(e),
    // In --json mode the agent's stderr carries JSON warnings (before ready) or plain messages.
    onStderrLine: (line) => {
      if (verbose) return; // already echoed
      let event = null;
      try {
        event = JSON.parse(line);
      } catch {
        /* a plain line */
      }
      if (event !== null && typeof event === 'object' && !Array.isArray(event)) printAgentEvent(event);
      else console.error(`[agent] ${line}`);
    },
  });
  watchUnexpectedExit('agent', state.agent);
  const ready = await state.agent.waitForEvent('ready', { timeoutMs: AGENT_READY_TIMEOUT_MS, what: 'its "ready" event with the session URL' });
  if (typeof ready.url !== 'string') throw new Error(`the agent reported ready without a URL: ${JSON.stringify(ready)}`);

  const what = state.demo ? `the demo app (http://127.0.0.1:${shared})` : `http://${shared.includes(':') ? shared : `localhost:${shared}`}`;
  state.running = true;
  const p2p = ready.p2p === true ? 'P2P when possible, relay otherwise' : ready.p2p === false ? 'relay only' : 'relay';
  // The link with its key (`#k=`): the reviewer's badge can then say the channel is verified.
  const link = typeof ready.link === 'string' ? ready.link : ready.url;
  const line = '─'.repeat(Math.max(link.length + 14, 56));
  console.log(
    `\n${line}\n  Wingman is sharing ${what}\n\n  ➜  Open:  ${link}\n\n` +
      `  Tunnel server: ${serverUrl} · transport: ${p2p}\n` +
      (typeof ready.inspector === 'string' ? `  Inspect requests: ${ready.inspector}\n` : '') +
      `  Ctrl-C to stop.\n${line}\n`,
  );
}

/**
 * A built bin of ours as a child process (scripts/lib/spawn-ready.mjs): in its
 * own process group, so the terminal's Ctrl-C reaches only us and we stop the
 * children in order (agent first, so its session closes cleanly).
 */
function startBin(name, bin, args, options = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: run npm run build first`);
  return spawnProcess({ name, command: process.execPath, args: [bin, ...args], verbose, ...options });
}

function printAgentEvent(event) {
  if (verbose) return; // the raw line is already on screen
  const line = formatAgentEvent(event);
  if (line !== null) console.log(line);
}

/** A child that exits while we are not stopping takes everything down, with its last output. */
function watchUnexpectedExit(name, child) {
  child.exited.then(({ code, signal }) => {
    if (state.stopping || !state.running) return;
    console.error(`\nwingman: the ${name} stopped unexpectedly (${signal ?? `exit code ${code}`})`);
    if (child.tail()) console.error(`last output of the ${name}:\n${indent(child.tail())}`);
    void shutdown(1);
  });
}

/** Stops the agent first (its session closes cleanly), then the server, then the demo app. */
async function shutdown(code, message) {
  if (state.stopping) {
    // A second Ctrl-C while stopping: do not wait for anyone.
    if (message) process.exit(code);
    return;
  }
  state.stopping = true;
  if (message) console.log(`\n${message}`);
  await state.agent?.stop();
  await state.server?.stop();
  await state.demo?.close();
  process.exit(code);
}

/** Fails early with a readable message instead of the server's EADDRINUSE. */
function assertPortFree(port) {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use: stop what runs there, or pick another port with PORT=<n> npm start`) : err);
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

function isTarget(value) {
  const m = /^(?:([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]{2,39}\]):)?(\d{1,5})$/.exec(value);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65_535;
}

/** 0 is allowed: the server picks a free port and reports it (tests, a busy 8080). */
function parsePort(value, source) {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) fail(`${source} must be a port 0-65535, got "${value}"`);
  return Number(value);
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function fail(message) {
  console.error(`wingman: ${message}`);
  process.exit(2);
}
