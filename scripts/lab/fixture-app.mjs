#!/usr/bin/env node
/**
 * The developer's app in the lab's dev namespace: plain node:http on
 * 127.0.0.1 (or the address given as its argument), port 0: what  `wingman http` shares. Routes:
 *   /            an HTML page that sets window.pageName = "home" (the ready marker) and window.appReadyAt (when)
 *   the lab routes (lab-routes.mjs): /api/hello, /bytes?n=N, POST /upload
 * Prints {"event":"listening","port":N}.
 */
import { createServer } from 'node:http';
import { handleLabRoute } from './lab-routes.mjs';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>lab app</title></head>
<body><h1 id="name">home</h1><p>Wingman network lab fixture.</p>
<script>window.pageName = 'home'; window.appReadyAt = performance.timeOrigin + performance.now();</script>
</body></html>`;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return res.end(PAGE);
  }
  if (handleLabRoute(req, res)) return;
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.listen(Number(process.argv[3] ?? 0), process.argv[2] ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port })}\n`);
});
