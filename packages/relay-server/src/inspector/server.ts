/**
 * The inspector's HTTP server on 127.0.0.1 (captures hold the developer's
 * cookies and tokens). It also refuses non-loopback peers, a Host other than
 * `127.0.0.1:<port>` / `localhost:<port>` (DNS rebinding), and state-changing
 * requests from another site's Origin.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApi, internalError, sendJson, type ApiContext } from './api';
import { inspectorAssets } from './assets';
import { isLoopbackHost } from '../loopback-host';

/** The inspector's default port (ngrok's, so it is where people look). */
export const DEFAULT_INSPECT_PORT = 4040;
/** Ports tried after the requested one is taken (4040, 4041, …): two agents side by side each get one, without scanning far. */
const INSPECT_PORT_TRIES = 10;

export async function startInspectorServer(port: number, api: ApiContext) {
  const assets = inspectorAssets();
  let boundPort = 0;
  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (err) {
      internalError(res, err, 'inspector error');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  function route(req: IncomingMessage, res: ServerResponse): void {
    const refusal = refuse(req, boundPort);
    if (refusal)
      return sendJson(res, 403, { error: { code: refusal, message: 'the inspector only answers http://127.0.0.1:' + boundPort + '/ from this machine' } });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${boundPort}`);
    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url, api);
    const asset = req.method === 'GET' || req.method === 'HEAD' ? assets.get(url.pathname) : undefined;
    if (!asset) return sendJson(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no ${req.method} ${url.pathname}` } });
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-store',
      // The page loads nothing from elsewhere; images are data: URLs built from captured bodies.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  boundPort = await listenFrom(server, port);
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE connections stay open otherwise.
        server.closeAllConnections();
      }),
  };
}

/** Listens on 127.0.0.1, on `port` or the next free one (INSPECT_PORT_TRIES in all). Port 0: any free port. */
async function listenFrom(server: Server, port: number): Promise<number> {
  const tries = port === 0 ? 1 : INSPECT_PORT_TRIES;
  let lastError: Error | undefined;
  for (let i = 0; i < tries && port + i <= 65535; i++) {
    try {
      server.listen(port === 0 ? 0 : port + i, '127.0.0.1');
      // Rejects with the listen's 'error' (EADDRINUSE); either way its listeners are removed.
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    } catch (err) {
      lastError = err as Error;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw new Error(`no free port for the inspector in ${port}-${port + tries - 1} (${lastError?.message ?? 'unknown'})`);
}

/** The ERR_* code of a request the inspector must not answer, or undefined. */
function refuse(req: IncomingMessage, port: number): string | undefined {
  // A peer address is never a name: only 127.0.0.0/8 and ::1 (IPv4-mapped or not) pass.
  if (!isLoopbackHost((req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''))) return 'ERR_INSPECTOR_NOT_LOOPBACK';
  const host = req.headers.host?.toLowerCase();
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return 'ERR_INSPECTOR_HOST';
  const origin = req.headers.origin;
  if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
    return 'ERR_INSPECTOR_ORIGIN';
  }
  return undefined;
}
