/**
 * A `ws` app for WebSocket tests through the tunnel: /sink counts and answers
 * `got <bytes>` once `?n=` bytes arrived; /source sends `?count=` messages of
 * `?size=` bytes (paced by its socket's buffer) then `end`; /echo echoes.
 * Plain HTTP: GET /hello answers `hello`; POST /upload reads the body and
 * answers `got <bytes>`; /never-read neither reads nor answers; GET
 * /download?bytes=N sends N bytes of 0x44 as its socket drains. Records how
 * each of its sockets closed.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { until, waitForEntry } from './wait';

const MiB = 1024 * 1024;
/** The block every /download writes, again and again (one buffer for any number of downloads). */
const DOWNLOAD_BLOCK = Buffer.alloc(64 * 1024, 0x44);
/** Bytes a sender lets its socket buffer before waiting (flow control against the relay's backpressure). */
export const SENDER_HIGH_WATER_BYTES = 4 * MiB;
/** A sender waits at most this long for its buffer to drain. */
const SEND_STALL_TIMEOUT_MS = 60_000;
/** closeOf() gives up (undefined) after this: a close crosses a few loopback hops. */
const CLOSE_WAIT_TIMEOUT_MS = 5_000;

export interface WsApp {
  port: number;
  /** How the app's sockets closed, in order: path, code and reason. */
  closes: Array<{ path: string; code: number; reason: string }>;
  /** The first of its sockets on `path` to close (waiting at most CLOSE_WAIT_TIMEOUT_MS), or undefined. */
  closeOf(path: string): Promise<{ path: string; code: number; reason: string } | undefined>;
  close(): Promise<void>;
}

/** Sends `count` messages of `size` bytes, never letting more than SENDER_HIGH_WATER_BYTES wait in `ws`'s buffer. */
export async function sendPaced(ws: WebSocket, count: number, size: number): Promise<void> {
  const payload = Buffer.alloc(size, 0x5a);
  for (let i = 0; i < count; i++) {
    if (ws.readyState !== WebSocket.OPEN) throw new Error(`socket closed after ${i} of ${count} messages`);
    ws.send(payload);
    if (ws.bufferedAmount > SENDER_HIGH_WATER_BYTES) await waitBuffered(ws);
  }
}

/** Resolves once ws's buffer is below half the high-water mark (polled: ws has no drain event), bounded by SEND_STALL_TIMEOUT_MS. */
async function waitBuffered(ws: WebSocket): Promise<void> {
  await until(() => ws.bufferedAmount <= SENDER_HIGH_WATER_BYTES / 2 || ws.readyState !== WebSocket.OPEN, {
    timeoutMs: SEND_STALL_TIMEOUT_MS,
    intervalMs: 2,
    what: 'the sender to drain (stalled)',
    observe: () => `${ws.bufferedAmount} bytes buffered`,
  });
  if (ws.readyState !== WebSocket.OPEN) throw new Error('socket closed while sending');
}

/**
 * The local app: /sink counts and answers `got <bytes>` once `?n=` bytes
 * arrived; /source sends `?count=` messages of `?size=` bytes then `end`;
 * /echo echoes.
 */
export async function startWsApp(): Promise<WsApp> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/hello') res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    else if (req.url === '/upload') {
      let got = 0;
      req.on('data', (c: Buffer) => (got += c.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${got}`));
    } else if (req.url === '/never-read') {
      // Neither reads the body nor answers: uploads to it stall (the test ends them).
      req.pause();
    } else if (req.url?.startsWith('/download?bytes=')) {
      const total = Number(new URL(req.url, 'http://x').searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      let left = total;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const block = left >= DOWNLOAD_BLOCK.length ? DOWNLOAD_BLOCK : DOWNLOAD_BLOCK.subarray(0, left);
          left -= block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, maxPayload: 128 * MiB });
  const closes: WsApp['closes'] = [];
  const events = new EventEmitter();
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    ws.on('error', () => undefined);
    ws.on('close', (code, reason: Buffer) => {
      const entry = { path: url.pathname, code, reason: reason.toString() };
      closes.push(entry);
      events.emit('close', entry);
    });
    if (url.pathname === '/sink') {
      const want = Number(url.searchParams.get('n'));
      let got = 0;
      ws.on('message', (data: Buffer) => {
        got += data.length;
        if (got >= want) ws.send(`got ${got}`);
      });
    } else if (url.pathname === '/source') {
      const count = Number(url.searchParams.get('count'));
      const size = Number(url.searchParams.get('size'));
      void sendPaced(ws, count, size).then(
        () => ws.send('end'),
        () => undefined,
      );
    } else if (url.pathname === '/echo') {
      ws.on('message', (data: Buffer, binary) => ws.send(data, { binary }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    closes,
    closeOf: (path) => waitForEntry(closes, events, 'close', { filter: (c) => c.path === path, timeoutMs: CLOSE_WAIT_TIMEOUT_MS }).catch(() => undefined),
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
