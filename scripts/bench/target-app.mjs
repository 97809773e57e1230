#!/usr/bin/env node
/**
 * The app behind every tunnel in the bench, run as its own process so the load
 * generator and the tunnels do not share its event loop. Listens on 127.0.0.1
 * port 0 and prints `{"event":"listening","port":N}`.
 *
 *   GET  /1k                1 KiB body (the small-request measurement)
 *   GET  /bytes?n=N         N bytes streamed in 64 KiB writes with backpressure
 *   POST /upload            reads and discards the body, answers {"length":N}
 *   GET  /sse?id=X          sends one event at once, the second when /sse-release?id=X
 *                           arrives (so buffering anywhere in between shows as a timeout)
 *   WebSocket on any path   echoes every message (text stays text, binary stays binary)
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const SMALL_BODY = Buffer.alloc(1024, 0x61);
const BLOCK_BYTES = 64 * 1024;
const BLOCK = Buffer.alloc(BLOCK_BYTES, 0x5a);
/** Largest /bytes answer: bounds the loop whatever the query says. */
const MAX_BYTES = 1024 * 1024 * 1024;
/** An SSE stream nobody releases ends by itself after this. */
const SSE_HOLD_MS = 15_000;
/** Held SSE streams at most (each is a test probe; more means a leak). */
const MAX_HELD_SSE = 100;

const heldSse = new Map();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app.invalid');
  switch (url.pathname) {
    case '/1k':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(SMALL_BODY.length) });
      return res.end(SMALL_BODY);
    case '/bytes':
      return sendBytes(res, Math.max(0, Math.min(Number(url.searchParams.get('n')) || 0, MAX_BYTES)));
    case '/upload': {
      let length = 0;
      req.on('data', (c) => (length += c.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ length }));
      });
      req.on('error', () => res.destroy());
      return;
    }
    case '/sse':
      return holdSse(url.searchParams.get('id') ?? '', res);
    case '/sse-release': {
      const held = heldSse.get(url.searchParams.get('id') ?? '');
      held?.();
      res.writeHead(held ? 200 : 404, { 'content-type': 'text/plain' });
      return res.end(held ? 'released' : 'no such stream');
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
  }
});

function sendBytes(res, total) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, BLOCK_BYTES);
      left -= n;
      if (!res.write(n === BLOCK_BYTES ? BLOCK : BLOCK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => (left = 0));
  pump();
}

function holdSse(id, res) {
  if (id === '' || heldSse.size >= MAX_HELD_SSE || heldSse.has(id)) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end('bad or duplicate id');
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('data: first\n\n');
  const finish = () => {
    clearTimeout(timer);
    heldSse.delete(id);
    if (!res.writableEnded) res.end('data: second\n\n');
  };
  const timer = setTimeout(finish, SSE_HOLD_MS);
  heldSse.set(id, finish);
  res.on('close', finish);
}

const wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});

const stop = () => {
  for (const c of wss.clients) c.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
