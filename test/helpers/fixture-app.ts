/**
 * The local app behind the tunnel in system tests: a real HTTP + WebSocket
 * server on 127.0.0.1 port 0 with routes for each behaviour under test.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { waitForEntry } from './wait';

/** Bound on waiting for the app to see a request or an abort: relayed hops on a loaded machine stay far below. */
const APP_WAIT_TIMEOUT_MS = 10_000;

/** The ETag of /revalidate. */
export const REVALIDATE_ETAG = '"v1"';

/** Deterministic bytes: block i of 64 KiB is filled from a seed so both ends can rebuild it. */
export function patternBlock(i: number): Buffer {
  const b = Buffer.allocUnsafe(65536);
  let x = (i * 2654435761 + 1) >>> 0;
  for (let o = 0; o < b.length; o += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, o);
  }
  return b;
}

/** Streams `totalBytes` of the pattern into `res` with backpressure, then ends it. */
export function writePattern(res: { write(b: Buffer): boolean; once(e: 'drain', fn: () => void): unknown; end(): unknown }, totalBytes: number): void {
  let i = 0;
  let left = totalBytes;
  const pump = () => {
    while (left > 0) {
      const block = left >= 65536 ? patternBlock(i) : patternBlock(i).subarray(0, left);
      i++;
      left -= block.length;
      if (!res.write(block)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

/** The first `n` bytes of the pattern, as one buffer (a file to serve, a body to write at once). */
export function patternBytes(n: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0, left = n; left > 0; i++, left -= 65536) blocks.push(left >= 65536 ? patternBlock(i) : patternBlock(i).subarray(0, left));
  return Buffer.concat(blocks, n);
}

export function patternSha256(totalBytes: number): string {
  const h = createHash('sha256');
  for (let i = 0, left = totalBytes; left > 0; i++, left -= 65536) h.update(left >= 65536 ? patternBlock(i) : patternBlock(i).subarray(0, left));
  return h.digest('hex');
}

export interface FixtureApp {
  port: number;
  server: Server;
  /** Requests whose connection closed before the response finished, by path. */
  aborted: string[];
  /** Paths of the requests that arrived, in order. */
  requested: string[];
  /** Emits 'request' and 'aborted' with the path as each is recorded above. */
  events: EventEmitter;
  /** Resolves once a request to `path` arrived (or had already). */
  waitForRequest(path: string, timeoutMs?: number): Promise<string>;
  /** Resolves once a request to `path` was aborted (or had already been). */
  waitForAborted(path: string, timeoutMs?: number): Promise<string>;
  /** Resolves the held SSE response (/sse sends a second event and ends). */
  releaseSse(): void;
  close(): Promise<void>;
}

export async function startFixtureApp(): Promise<FixtureApp> {
  const aborted: string[] = [];
  const requested: string[] = [];
  const events = new EventEmitter();
  let release: (() => void) | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requested.push(url.pathname);
    events.emit('request', url.pathname);
    res.on('close', () => {
      if (res.writableFinished) return;
      aborted.push(url.pathname);
      events.emit('aborted', url.pathname);
    });
    switch (url.pathname) {
      case '/hello':
        res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '', 'x-host': req.headers.host ?? '' });
        return res.end(req.method === 'HEAD' ? undefined : `hello ${req.method}`);
      case '/headers':
        // What reached the app (credentials the tunnel must have removed, say).
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'app_session=s1; Path=/; HttpOnly' });
        return res.end(JSON.stringify(req.headers));
      case '/echo':
        // A request body cut by the client rejects: drop the response, never an unhandled rejection.
        collect(req).then(
          (body) => {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-method': req.method ?? '' });
            res.end(body);
          },
          () => res.destroy(),
        );
        return;
      case '/sha':
        hashBody(req).then(
          ({ sha, length }) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ sha, length }));
          },
          () => res.destroy(),
        );
        return;
      case '/bytes': {
        const total = Number(url.searchParams.get('n') ?? '0');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
        return writePattern(res, total);
      }
      case '/revalidate':
        // A cached resource: a conditional GET for its ETag gets a 304 (no body), as a dev server answers a reload.
        if (req.headers['if-none-match'] === REVALIDATE_ETAG) return void res.writeHead(304, { etag: REVALIDATE_ETAG }).end();
        res.writeHead(200, { etag: REVALIDATE_ETAG, 'cache-control': 'no-cache', 'content-type': 'text/plain' });
        return res.end('fresh');
      case '/sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        release = () => res.end('data: second\n\n');
        return;
      case '/hang':
        return; // never answers: for abort tests
      default:
        res.writeHead(404);
        res.end('not found');
    }
  });
  // An upgrade to /hang is never answered either (no 101, no refusal): a WebSocket open that stays pending.
  const pendingUpgrades = new Set<IncomingMessage>();
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean) => void) => {
      const path = new URL(info.req.url ?? '/', 'http://x').pathname;
      if (path !== '/hang') return done(true);
      pendingUpgrades.add(info.req);
      // Read (and drop) what comes, so the client's end of the connection is seen; the HTTP server's
      // sockets are half-open by default, and once upgraded no parser ends them.
      info.req.socket.resume();
      info.req.socket.once('end', () => info.req.socket.destroy());
      info.req.socket.once('close', () => {
        pendingUpgrades.delete(info.req);
        aborted.push(path);
        events.emit('aborted', path);
      });
      requested.push(path);
      events.emit('request', path);
    },
  });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    aborted,
    requested,
    events,
    waitForRequest: (path, timeoutMs = APP_WAIT_TIMEOUT_MS) =>
      waitForEntry(requested, events, 'request', { filter: (p) => p === path, timeoutMs, what: `a request to ${path} at the app` }),
    waitForAborted: (path, timeoutMs = APP_WAIT_TIMEOUT_MS) =>
      waitForEntry(aborted, events, 'aborted', { filter: (p) => p === path, timeoutMs, what: `the app's request to ${path} to be aborted` }),
    releaseSse: () => release?.(),
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        // Upgraded sockets are the app's own: closeAllConnections() does not see them.
        for (const req of pendingUpgrades) req.socket.destroy();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function hashBody(req: IncomingMessage): Promise<{ sha: string; length: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      length += c.length;
    });
    req.on('end', () => resolve({ sha: h.digest('hex'), length }));
    req.on('error', reject);
  });
}
