#!/usr/bin/env node
/**
 * Diagnostic: what one WebSocket connection between two Node processes
 * carries alone, the link every relayed byte crosses between the tunnel
 * server and the agent. 20 MiB (the bench's upload size) in 256 KiB binary
 * messages (the relay's message size, WEBSOCKET_MAX_MESSAGE_BYTES), no
 * compression, zero mask (as the agent on loopback), a few messages in
 * flight at a time:
 *
 *   node scripts/bench/ws-floor.mjs [--runs 5]
 *
 * Prints each run's MB/s and the median. No HTTP, no framing of our own: a
 * relay through this link cannot beat it. Loopback only (127.0.0.1), no
 * WebRTC, so it runs in the caller's network namespace. Not part of `npm test`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

const TOTAL_BYTES = 20 * 1024 * 1024;
const MESSAGE_BYTES = 256 * 1024;
/** Messages queued in ws before the sender waits: keeps the socket busy, bounds memory. */
const QUEUED_MESSAGES = 4;
/** One transfer; at 1 MB/s 20 MiB would already be a failure worth seeing. */
const RUN_TIMEOUT_MS = 30_000;
const MAX_RUNS = 20;

if (process.argv[2] === '--receiver') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 2 * MESSAGE_BYTES });
  wss.on('listening', () => process.send?.(wss.address().port));
  wss.on('connection', (ws) => {
    let received = 0;
    ws.on('message', (data) => {
      received += data.length;
      if (received >= TOTAL_BYTES) {
        received = 0;
        ws.send('done');
      }
    });
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const { runs: runsArg } = parseArgs({ options: { runs: { type: 'string', default: '5' } } }).values;
  const runs = Number(runsArg);
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS) {
    console.error(`[ws-floor] --runs must be 1-${MAX_RUNS}`);
    process.exit(2);
  }
  const receiver = fork(fileURLToPath(import.meta.url), ['--receiver']);
  const kill = () => receiver.kill('SIGKILL');
  process.on('exit', kill);
  try {
    const port = await withTimeout(new Promise((resolve) => receiver.once('message', resolve)), 'receiver start');
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
    await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 'connect');
    const message = Buffer.alloc(MESSAGE_BYTES, 0x5a);
    const rates = [];
    for (let run = 0; run < runs; run++) {
      const t0 = performance.now();
      await withTimeout(sendAll(ws, message), `run ${run + 1}`);
      rates.push(TOTAL_BYTES / 1e6 / ((performance.now() - t0) / 1000));
    }
    const sorted = [...rates].sort((a, b) => a - b);
    console.log(
      `one WebSocket, 20 MiB in 256 KiB messages: ${rates.map((r) => r.toFixed(0)).join(', ')} MB/s; median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} MB/s`,
    );
    ws.close();
  } catch (err) {
    console.error(`[ws-floor] ${err.message}`);
    process.exitCode = 1;
  } finally {
    kill();
  }
}

/** Sends TOTAL_BYTES, at most QUEUED_MESSAGES unwritten at a time (ws's send callback: written to the socket); resolves on the receiver's "done". */
function sendAll(ws, message) {
  return new Promise((resolve, reject) => {
    ws.once('message', resolve);
    let sent = 0;
    let inFlight = 0;
    const pump = () => {
      while (sent < TOTAL_BYTES && inFlight < QUEUED_MESSAGES) {
        sent += message.length;
        inFlight++;
        ws.send(message, (err) => {
          inFlight--;
          if (err) reject(err);
          else pump();
        });
      }
    };
    pump();
  });
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
