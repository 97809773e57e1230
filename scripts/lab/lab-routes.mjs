/**
 * The lab's measurement routes, served by every lab app (the fixture app,
 * and the Vite app as a middleware):
 *   /api/hello   a small JSON answer (the small-request latency probe)
 *   /bytes?n=N   N bytes of the lab pattern (pattern.mjs), streamed with backpressure
 *   POST /upload the body's length and SHA-256 as JSON (the upload probe)
 */
import { createHash } from 'node:crypto';
import { PIECE_BYTES, patternPiece } from './pattern.mjs';

/** Largest body /bytes serves and /upload takes: the lab moves 50 MiB at most; 1 GiB bounds a typo. */
const MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Answers a lab route.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @returns {boolean} false when the path is not a lab route (the caller answers it)
 */
export function handleLabRoute(req, res) {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/api/hello') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ hello: 'lab', host: req.headers.host ?? '' }));
    return true;
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
    return true;
  }
  if (url.pathname === '/bytes') {
    const total = Number(url.searchParams.get('n') ?? '0');
    if (!Number.isInteger(total) || total < 0 || total > MAX_BYTES) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('n must be an integer from 0 to 1 GiB\n');
      return true;
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
    pump();
    return true;
  }
  return false;
}
