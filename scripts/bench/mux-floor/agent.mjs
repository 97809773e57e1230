#!/usr/bin/env node
/**
 * The mux floor's agent process: one WebSocket to the mux floor server, each
 * stream the server opens piped to its own TCP connection to the app
 * (./app-pipe.mjs). No HTTP parsing, no logging.
 *
 *   node scripts/bench/mux-floor/agent.mjs <server port> <app port>
 *
 * Prints `{"event":"ready"}` once the WebSocket is open; exits when it closes.
 */
import { WebSocket } from 'ws';
import { AppPipe } from './app-pipe.mjs';
import { createBatchedSender } from './write-batch.mjs';
import { AGENT_PATH, MAX_MESSAGE_BYTES, OPEN, deliverFrame, encodeCredit, encodeFrame, frameError } from './frame.mjs';

const [serverPort, appPort] = process.argv.slice(2, 4).map(Number);
const isPort = (p) => Number.isInteger(p) && p >= 1 && p <= 65535;
if (!isPort(serverPort) || !isPort(appPort)) {
  console.error('usage: agent.mjs <server port> <app port>');
  process.exit(2);
}

/** @type {Map<number, AppPipe>} */
const pipes = new Map();
// Zero mask on loopback, as the product's agent (ws skips the XOR).
const ws = new WebSocket(`ws://127.0.0.1:${serverPort}${AGENT_PATH}`, {
  perMessageDeflate: false,
  maxPayload: MAX_MESSAGE_BYTES,
  generateMask: (mask) => mask.fill(0),
});
const write = createBatchedSender(ws);
const link = {
  send: (type, id, payload) => ws.readyState === WebSocket.OPEN && write(encodeFrame(type, id, payload)),
  credit: (id, bytes) => ws.readyState === WebSocket.OPEN && write(encodeCredit(id, bytes)),
  forget: (id) => pipes.delete(id),
};

ws.on('open', () => console.log(JSON.stringify({ event: 'ready' })));
ws.on('message', (msg) => {
  const err = frameError(msg);
  if (err) {
    console.error(`[mux-floor agent] malformed frame from the server: ${err}`);
    return void ws.terminate();
  }
  const id = msg.readUInt32BE(1);
  if (msg[0] === OPEN) {
    if (!pipes.has(id)) pipes.set(id, new AppPipe(link, id, appPort));
    return;
  }
  const p = pipes.get(id);
  if (!p) return; // a stream this side already closed
  deliverFrame(msg, p);
});
ws.on('error', (err) => console.error(`[mux-floor agent] ${err.message}`));
ws.on('close', () => {
  for (const p of pipes.values()) p.socket.destroy();
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
