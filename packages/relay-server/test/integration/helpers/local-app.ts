/**
 * A real local app on 127.0.0.1:<random port>: the developer's dev server as
 * the forwarder sees it. HTTP endpoints for each behaviour under test, plus
 * a WebSocket echo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { waitForEntry, waitForEvent } from '../../../../../test/helpers/wait';

/** Bound on waiting for the app to see a request, an abort or a WebSocket close: loopback hops stay far below. */
const APP_WAIT_TIMEOUT_MS = 5_000;

/** 1 MiB of random bytes; downloads repeat it, so a test can hash the expected body without holding it. */
export const BLOCK = randomBytes(1024 * 1024);

/** SHA-256 of `blocks` repetitions of BLOCK. */
export function blocksSha256(blocks: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < blocks; i++) h.update(BLOCK);
  return h.digest('hex');
}

export interface LocalApp {
  port: number;
  /** Paths whose request closed before the app answered (the viewer's abort reached the app). */
  aborted: string[];
  /** Requests seen, in arrival order. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; rawHeaders: string[] }>;
  /** Lengths of the complete bodies /sha received. */
  bodiesHashed: number[];
  /** WebSocket connections the app holds open. */
  wsOpen(): number;
  /** TCP connections the app accepted so far. */
  connections(): number;
  /** Emits 'request' (the `seen` entry), 'aborted' (the path) and 'ws-close' as each happens. */
  events: EventEmitter;
  /** Resolves with the first request seen (now or later) that passes `filter`. */
  waitForRequest(filter?: (r: LocalApp['seen'][number]) => boolean): Promise<LocalApp['seen'][number]>;
  /** Resolves once the request to `path` was aborted (now or earlier). */
  waitForAborted(path: string): Promise<string>;
  /** Resolves once the app holds no WebSocket open. */
  waitForNoWebSockets(): Promise<void>;
  /** Lets the pending SSE responses send their second event and end. */
  releaseSse(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function sendBlocks(res: ServerResponse, blocks: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blocks * BLOCK.length) });
  let sent = 0;
  const pump = () => {
    while (sent < blocks) {
      sent++;
      if (!res.write(BLOCK)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

export async function startLocalApp(): Promise<LocalApp> {
  const aborted: string[] = [];
  const seen: LocalApp['seen'] = [];
  const events = new EventEmitter();
  const bodiesHashed: number[] = [];
  const sseWaiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders };
    seen.push(entry);
    events.emit('request', entry);
    res.on('close', () => {
      if (res.writableFinished) return;
      aborted.push(url.pathname);
      events.emit('aborted', url.pathname);
    });
    switch (url.pathname) {
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-method': req.method ?? '' });
        if (req.method === 'HEAD') return void res.end();
        req.pipe(res);
        return;
      case '/headers':
        void readBody(req).then(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ headers: req.headers, rawHeaders: req.rawHeaders }));
        });
        return;
      case '/bytes':
        return sendBlocks(res, Number(url.searchParams.get('blocks') ?? '1'));
      case '/sha': {
        const h = createHash('sha256');
        let length = 0;
        req.on('data', (c: Buffer) => {
          h.update(c);
          length += c.length;
        });
        req.on('end', () => {
          bodiesHashed.push(length);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ sha: h.digest('hex'), length }));
        });
        return;
      }
      case '/sse': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        const release = () => {
          sseWaiters.delete(release);
          clearTimeout(timer);
          timers.delete(timer);
          if (!res.writableEnded) res.end('data: second\n\n');
        };
        const timer = setTimeout(release, 10_000);
        timers.add(timer);
        sseWaiters.add(release);
        return;
      }
      case '/hang':
        return; // never answers; the abort shows in `aborted`
      case '/break': {
        // A script that breaks off: 64 KiB of its declared 128 KiB, then the connection is cut.
        res.writeHead(200, { 'content-type': 'text/javascript', 'content-length': String(128 * 1024) });
        res.write('export const x = 1;\n'.repeat(64 * 52).slice(0, 64 * 1024), () => setTimeout(() => res.destroy(), 50));
        return;
      }
      case '/slow': {
        const timer = setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') ?? '1000'));
        timers.add(timer);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case '/many-headers': {
        // More fields than a protocol head may carry (?n=…); the forwarder cannot pass this head on.
        const n = Number(url.searchParams.get('n') ?? '300');
        for (let i = 0; i < n; i++) res.setHeader(`x-field-${i}`, 'v');
        return void res.end('unreachable body');
      }
      case '/no-content':
        res.writeHead(204, { 'x-method': req.method ?? '' });
        return void res.end();
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
    }
  });

  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry = { method: 'UPGRADE', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders };
    seen.push(entry);
    events.emit('request', entry);
    if (path === '/ws-refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nx-refused: yes\r\n\r\nnope!\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // The server's own 'close' listener (added first) has already removed it from wss.clients.
      ws.on('close', () => events.emit('ws-close'));
      if (path === '/ws-close') return ws.close(4001, 'bye from app');
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });

  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    aborted,
    seen,
    bodiesHashed,
    wsOpen: () => wss.clients.size,
    connections: () => accepted,
    events,
    waitForRequest: (filter = () => true) =>
      waitForEntry(seen, events, 'request', { filter, timeoutMs: APP_WAIT_TIMEOUT_MS, what: 'a request at the local app' }),
    waitForAborted: (path) =>
      waitForEntry(aborted, events, 'aborted', {
        filter: (p) => p === path,
        timeoutMs: APP_WAIT_TIMEOUT_MS,
        what: `the app's request to ${path} to be aborted`,
      }),
    async waitForNoWebSockets() {
      if (wss.clients.size === 0) return;
      await waitForEvent(events, 'ws-close', {
        filter: () => wss.clients.size === 0,
        timeoutMs: APP_WAIT_TIMEOUT_MS,
        what: 'the app to hold no WebSocket open',
      });
    },
    releaseSse: () => [...sseWaiters].forEach((r) => r()),
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
