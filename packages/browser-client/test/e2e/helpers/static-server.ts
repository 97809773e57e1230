/**
 * A tiny fixture HTTP server for browser tests: fixed routes, 127.0.0.1 on an
 * ephemeral port, reachable from Chromium as `http://<name>.localhost:<port>/`
 * (Chromium resolves *.localhost to loopback itself and treats it as a secure
 * context, so Service Workers register without TLS).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface StaticRoute {
  /** Content-Type of the response, e.g. `text/html; charset=utf-8`. */
  type: string;
  /** Response body. */
  body: string | Uint8Array;
  /** Extra response headers (lower-case names). */
  headers?: Record<string, string>;
}

export interface StaticServerOptions {
  /** Routes by exact path (query ignored); anything else gets a 404. */
  routes: Record<string, StaticRoute>;
}

export interface StaticServer {
  /** The ephemeral port on 127.0.0.1. */
  port: number;
  /** `http://<name>.localhost:<port>` — one origin (and Service Worker scope) per name. */
  origin(name: string): string;
  /** Paths requested so far, in order (to assert what reached the network vs the Service Worker). */
  requests: string[];
  /** Stops listening and destroys open connections (keep-alive sockets included). */
  close(): Promise<void>;
}

/** Starts the server; always `await close()` in afterEach/afterAll. */
export async function createStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(path);
    const route = Object.prototype.hasOwnProperty.call(options.routes, path) ? options.routes[path] : undefined;
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no fixture route for ${path}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store', ...route.headers });
    res.end(req.method === 'HEAD' ? undefined : route.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: (name) => `http://${name}.localhost:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
