/**
 * Serves the browser bundles (packages/browser-client/dist, read as files, never imported) under the reserved prefix of
 * every session origin; re-read when they change on disk, `no-cache` + ETag (a Service Worker script must never be
 * stale), gzipped for browsers that accept it: ~39 KB instead of ~110 on a first visit's connection in slow start.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLIENT_PATH, DIAGNOSTICS_SCRIPT_PATH, SHIM_PATH, SW_PATH, SW_SCOPE } from '@wingman/protocol';

/**
 * Where the bundles are: beside bin/ in the single-file build of the published package (wingman-tunnel copies them to
 * dist/, its server is dist/bin/wingman-server.js), otherwise browser-client's dist/ in the workspace (this file is
 * in tunnel-server/src/browser under jest, tunnel-server/dist/browser when built).
 */
export function defaultBrowserDistDir(): string {
  const published = join(__dirname, '..');
  if (existsSync(join(published, 'sw.js'))) return published;
  return join(__dirname, '..', '..', '..', 'browser-client', 'dist');
}

/** URL path → file name in distDir. */
export const ASSET_FILES: ReadonlyMap<string, string> = new Map([
  [CLIENT_PATH, 'client.js'],
  [SW_PATH, 'sw.js'],
  [SHIM_PATH, 'shim.js'],
  [DIAGNOSTICS_SCRIPT_PATH, 'diagnostics.js'],
]);

/** What `make` derives from a file's bytes, per path, made again when the file's size or mtime changes; undefined while the file cannot be read. */
export function fileCache<T>(make: (bytes: Buffer, path: string) => T): (path: string) => T | undefined {
  const cache = new Map<string, { mtimeMs: number; size: number; value: T }>();
  return (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value;
    const value = make(readFileSync(path), path);
    cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, value });
    return value;
  };
}

/** True when an Accept-Encoding value accepts gzip (listed without q=0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * The handler of the bundles' paths (`distDir`: where client.js, sw.js and shim.js are): answers GET/HEAD (other
 * methods get 405) and returns true; returns false, without touching `res`, for any other path.
 */
export function createBrowserAssets(distDir = defaultBrowserDistDir()) {
  // The same bytes gzipped once, at load (a 60 KB bundle takes ~3 ms), with their own ETag.
  const load = fileCache((body) => {
    const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
    return { body, etag: `"${tag}"`, gzip: gzipSync(body, { level: 9 }), gzipEtag: `"${tag}-gz"` };
  });

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = ASSET_FILES.get(path);
    if (file === undefined) return false;
    if (res.headersSent) return true;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return true;
    }
    const asset = load(join(distDir, file));
    if (!asset) {
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(`Wingman's browser bundle ${file} is not built: run \`npm run build -w @wingman/browser-client\`.\n`);
      return true;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    const body = gzip ? asset.gzip : asset.body;
    headers.etag = gzip ? asset.gzipEtag : asset.etag;
    if (path === SW_PATH) headers['service-worker-allowed'] = SW_SCOPE;
    if (req.headers['if-none-match'] === headers.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
