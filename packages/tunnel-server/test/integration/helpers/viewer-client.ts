/**
 * Viewers told apart by source address: requests and WebSockets to the
 * tunnel server on 127.0.0.1 from a chosen loopback address (127.0.0.2,
 * 127.0.0.3…), as the server's per-viewer quotas see different viewers.
 */
import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';

const OPEN_TIMEOUT_MS = 5_000;

export interface HeldResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body so far for a held (2xx) response; the whole body otherwise. */
  body: string;
  /** Cuts the request (a held one stays open until then). */
  close(): void;
  /** Counts body bytes (of a held response) instead of keeping them; `end` when the body is complete. */
  onData(count: (bytes: number) => void, end: () => void): void;
}

const open = new Set<{ close(): void }>();

/** Sends a GET from `from`; resolves with the head, holding a 2xx response open, reading anything else to its end. */
export function holdGet(port: number, host: string, path: string, from: string): Promise<HeldResponse> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined;
    const timer = setTimeout(() => {
      req?.destroy();
      reject(new Error(`no response head for ${path} within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false, localAddress: from }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      let counter: ((bytes: number) => void) | undefined;
      const held: HeldResponse = {
        status,
        headers: res.headers,
        body,
        close: () => req!.destroy(),
        onData(count, end) {
          counter = count;
          count(Buffer.byteLength(body));
          res.once('end', end);
        },
      };
      open.add(held);
      res.on('data', (c: Buffer) => {
        if (counter) counter(c.length);
        else held.body = body += c.toString();
      });
      res.on('error', () => undefined);
      if (status >= 200 && status < 300) {
        clearTimeout(timer);
        return resolve(held);
      }
      res.on('end', () => {
        clearTimeout(timer);
        resolve(held);
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

export type WsOutcome =
  | { kind: 'open'; ws: WebSocket; closed: Promise<number>; messages: string[] }
  | { kind: 'refused'; status: number; headers: IncomingHttpHeaders; body: string };

/** Opens a WebSocket from `from`; resolves open, or refused with the HTTP answer. */
export function openWs(port: number, host: string, path: string, from: string): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host }, localAddress: from });
    open.add({ close: () => ws.terminate() });
    // Collected from the start: a server's first message may arrive with the handshake.
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(data.toString()));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('WebSocket neither opened nor was refused in time'));
    }, OPEN_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ kind: 'open', ws, closed, messages });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ kind: 'refused', status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Cuts every request and WebSocket these helpers opened. */
export function closeAllViewers(): void {
  for (const o of open) o.close();
  open.clear();
}
