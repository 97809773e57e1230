/**
 * A stand-in for the tunnel server's browser-client wiring, used only while
 * wingman-server does not serve the bundle itself (stack.ts probes for it).
 * It sits in front of the real tunnel server and does exactly what
 * docs/browser-client.md §Tunnel server asks of it, with the same exported
 * functions, proxying everything else unchanged (HTTP and upgrades):
 *   1. createBrowserAssets().handle(req, res)  → the bundles;
 *   2. isBootstrapNavigation(req) on a P2P session → serveShell(res, …);
 *   3. requests: applySwCookieBridge(headers); responses to SW relay requests
 *      (isSwRelayRequest): bridgeSwResponse(head).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { HeaderList } from '@wingman/protocol';
import { applySwCookieBridge, bridgeSwResponse, createBrowserAssets, isBootstrapNavigation, isSwRelayRequest, serveShell } from '../../../src/server';

export interface Front {
  port: number;
  close(): Promise<void>;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

function listOf(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

function rawOf(list: HeaderList): string[] {
  return list.flatMap(([n, v]) => [n, v]);
}

export async function startFront(upstreamPort: number, options: { p2p: boolean }): Promise<Front> {
  const assets = createBrowserAssets();
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    if (assets.handle(req, res)) return;
    const sessionId = (req.headers.host ?? '').split('.')[0] ?? '';
    if (options.p2p && isBootstrapNavigation(req)) return serveShell(res, { sessionId, p2p: true });
    const incoming = listOf(req.rawHeaders);
    const fromSw = isSwRelayRequest(incoming);
    const headers = applySwCookieBridge(incoming).filter(([n]) => !HOP.has(n));
    const up = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: rawOf(headers) as unknown as Record<string, string> });
    up.on('response', (upRes: IncomingMessage) => {
      let head = { status: upRes.statusCode ?? 502, headers: listOf(upRes.rawHeaders).filter(([n]) => !HOP.has(n)) };
      if (fromSw) head = bridgeSwResponse(head);
      res.writeHead(head.status, rawOf(head.headers) as unknown as Record<string, string>);
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`front: ${err.message}\n`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const up = connect(upstreamPort, '127.0.0.1', () => {
      let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(`${text}\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
