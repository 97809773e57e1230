#!/usr/bin/env node
/**
 * The developer's app in the lab's dev namespace: plain node:http on
 * 127.0.0.1 (port 0), what `wingman http` shares. Routes:
 *   /            an HTML page that sets window.pageName = "home" (the ready marker) and window.appReadyAt (when)
 *   /api/hello   a small JSON answer (the small-request latency probe)
 *   /bytes?n=N   N bytes of the lab pattern (pattern.mjs), streamed with backpressure
 *   POST /upload the body's length and SHA-256 as JSON (the upload probe)
 * Prints {"event":"listening","port":N}.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { PIECE_BYTES, patternPiece } from './pattern.mjs';

/** Largest body /bytes serves and /upload takes: the lab moves 50 MiB at most; 1 GiB bounds a typo. */
const MAX_BYTES = 1024 * 1024 * 1024;

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
  if (url.pathname === '/api/hello') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    return res.end(JSON.stringify({ hello: 'lab', host: req.headers.host ?? '' }));
  }
  if (url.pathname === '/upload' && req.method === 'POST') {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes > MAX_BYTES) return void req.destroy();
      hash.update(chunk);
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ bytes, sha: hash.digest('hex') }));
    });
    return;
  }
  if (url.pathname === '/bytes') {
    const total = Number(url.searchParams.get('n') ?? '0');
    if (!Number.isInteger(total) || total < 0 || total > MAX_BYTES) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      return res.end('n must be an integer from 0 to 1 GiB\n');
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total), 'cache-control': 'no-store' });
    let i = 0;
    let left = total;
    const pump = () => {
      while (left > 0) {
        const piece = patternPiece(i++, Math.min(PIECE_BYTES, left));
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (left = 0));
    return pump();
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port })}\n`);
});
