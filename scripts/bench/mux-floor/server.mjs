#!/usr/bin/env node
/**
 * The mux floor's server process: the smallest honest tunnel server of a
 * design where the agent passes HTTP/1.1 bytes through unparsed. It accepts
 * the viewer's HTTP requests, re-sends each with Node's http client over a
 * keep-alive `http.Agent` whose connections are streams multiplexed over the
 * agent's one WebSocket (./mux-stream.mjs), and parses the app's responses
 * itself. A stream lives as long as its keep-alive connection to the app.
 * Upgrades (WebSocket) get a stream of their own, the request head written
 * as bytes, then piped both ways.
 *
 * No per-request logging, capture, access control or session routing: one
 * agent, every request goes to it.
 *
 *   node scripts/bench/mux-floor/server.mjs
 *
 * Prints `{"event":"listening","port":N}`; the agent connects to ws://127.0.0.1:N<AGENT_PATH>.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { AGENT_PATH, MAX_MESSAGE_BYTES } from './frame.mjs';
import { ServerLink } from './server-link.mjs';

/** Free keep-alive streams are closed after this idle time, before the app's own 5 s keep-alive timeout closes them under a request. */
const FREE_STREAM_IDLE_MS = 4000;

/** @type {ServerLink | null} */
let link = null;

const appAgent = new http.Agent({ keepAlive: true, timeout: FREE_STREAM_IDLE_MS });
appAgent.createConnection = () => {
  if (!link) throw new Error('no agent connected');
  return link.open();
};

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES });

const server = http.createServer((req, res) => {
  if (!link) return answer(res, 502, 'no agent connected');
  const up = http.request({ agent: appAgent, method: req.method, path: req.url, headers: req.rawHeaders, setHost: false });
  up.on('response', (appRes) => {
    res.writeHead(appRes.statusCode ?? 502, appRes.statusMessage, appRes.rawHeaders);
    appRes.pipe(res);
    appRes.on('error', () => res.destroy());
  });
  up.on('error', (err) => (res.headersSent ? res.destroy() : answer(res, 502, `app unreachable: ${err.message}`)));
  req.pipe(up);
  req.on('error', () => up.destroy());
  // The viewer went away before the whole answer: the stream goes too.
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
});

server.on('upgrade', (req, socket, head) => {
  if (req.url === AGENT_PATH) return wss.handleUpgrade(req, socket, head, attachAgent);
  if (!link) return socket.destroy();
  const stream = link.open();
  let lines = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  stream.write(`${lines}\r\n`, 'latin1');
  if (head.length > 0) stream.write(head);
  socket.pipe(stream).pipe(socket);
  socket.on('error', () => stream.destroy());
  stream.on('error', () => socket.destroy());
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
});

function attachAgent(ws) {
  link?.ws.terminate();
  const mine = new ServerLink(ws);
  link = mine;
  ws.on('close', () => {
    if (link === mine) link = null;
  });
}

function answer(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
