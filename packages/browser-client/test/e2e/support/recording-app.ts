/**
 * An app that records the bytes it receives: a raw `node:net` server that
 * parses HTTP/1.1 itself, so it sees what a framework would — the request
 * line, every header line in order with duplicates, whether the body came
 * with Content-Length or chunked, and the body's bytes. The differential
 * fidelity tests compare these records between a direct visit and each
 * Wingman path. Pages it serves: `/page` (forms and a script), `/submit`
 * (the result of a form post), `/frame-deny` (X-Frame-Options: DENY +
 * frame-ancestors 'none'), `/strict-csp` (a nonce-only 'strict-dynamic' CSP),
 * `/sse` (an event stream; see sse()), `/download` (an attachment), `/ws` (a
 * WebSocket echo that picks a subprotocol; the handshake is recorded like any
 * request, then `ws` takes the socket), and any other path: a small JSON
 * answer.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';

export interface RecordedRequest {
  method: string;
  target: string;
  /** Header lines as received: [name as sent, value], in order. */
  headers: Array<[string, string]>;
  /** 'length': Content-Length framed; 'chunked'; 'none': no body framing at all. */
  framing: 'length' | 'chunked' | 'none';
  body: Buffer;
  /** A WebSocket handshake (`Upgrade: websocket`): the socket is the app's WebSocket from then on. */
  upgrade?: true;
}

export interface RecordingApp {
  port: number;
  requests: RecordedRequest[];
  /** The requests for `target` (path and query), in order. */
  find(target: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Largest head or body the app takes (a test app: anything larger is a bug). */
const MAX_BYTES = 8 * 1024 * 1024;
export const CSP_NONCE = 'r3c0rd1ngN0nce';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** A body's hash with multipart boundaries (random per request) masked, so equal form data hashes equal. */
const bodySha = (b: Buffer) => sha(b.toString('latin1').replace(/-{4,}[A-Za-z0-9]+/g, '<boundary>'));

function pageHtml(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>record</title></head><body>
<h1 id="name">page</h1>
<form id="urlencoded" method="post" action="/submit?form=urlencoded"><input name="user" value="alice &amp; bob"><input name="note" value="é ✓"></form>
<form id="multipart" method="post" enctype="multipart/form-data" action="/submit?form=multipart"><input name="user" value="carol"><textarea name="text">line 1
line 2</textarea></form>
<script>window.pageName = 'page';</script>
</body></html>`;
}

const REASONS: Record<number, string> = {
  101: 'Switching Protocols',
  200: 'OK',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};

/** The subprotocols /ws speaks, in its order of preference (not the offer's: the app's pick shows it read the offer). */
export const WS_PROTOCOLS = ['chat.v1', 'chat.v2'];

/** The bytes /download sends as an attachment. */
export const DOWNLOAD_BYTES = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
export const DOWNLOAD_NAME = 'report.bin';

/** The gap between two events of /sse, so the events arrive over time, as a stream. */
const SSE_GAP_MS = 30;

/** One chunk of a chunked body. */
const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

/**
 * /sse: an EventSource's three connections. The first gets `retry: 200`,
 * event 1 and a named event 2 over two lines, then the stream ends; the
 * browser reconnects with `Last-Event-ID: 2` and gets event 3, then ends;
 * the third connection (`Last-Event-ID: 3`) gets 204, which closes the
 * EventSource for good.
 */
function sse(socket: Socket, req: RecordedRequest): void {
  const last = req.headers.find(([k]) => k.toLowerCase() === 'last-event-id')?.[1];
  if (last === '3') {
    socket.write('HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n\r\n');
    return;
  }
  const events =
    last === '2' ? ['id: 3\ndata: three\n\n'] : ['retry: 200\nid: 1\ndata: one\n\n', ': a comment\nevent: named\nid: 2\ndata: two\ndata: lines\n\n'];
  socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n');
  events.forEach((e, i) => setTimeout(() => socket.writable && socket.write(chunk(e)), i * SSE_GAP_MS));
  setTimeout(() => socket.writable && socket.write('0\r\n\r\n'), events.length * SSE_GAP_MS);
}

/** /ws: greets with the chosen subprotocol, echoes each message (text prefixed `echo:`), closes 4001 on `bye`. */
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (offered) => WS_PROTOCOLS.find((p) => offered.has(p)) ?? false,
});
wss.on('connection', (ws) => {
  ws.send(`hello ${ws.protocol}`);
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'bye') return ws.close(4001, 'server says bye');
    ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary });
  });
});

/** Hands the socket of a recorded handshake to `ws` (which answers it), with `rest`: bytes that followed the head. */
function upgrade(socket: Socket, req: RecordedRequest, rest: Buffer): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of req.headers) headers[k.toLowerCase()] = headers[k.toLowerCase()] === undefined ? v : `${headers[k.toLowerCase()]}, ${v}`;
  // ws reads only method, url and headers of the request it upgrades.
  const message = { method: req.method, url: req.target, headers } as unknown as IncomingMessage;
  wss.handleUpgrade(message, socket, rest, (ws) => wss.emit('connection', ws, message));
}

function respond(socket: Socket, req: RecordedRequest): void {
  const [path] = req.target.split('?');
  if (path === '/sse') return sse(socket, req);
  let status = 200;
  let type = 'application/json';
  let body: string | Buffer = JSON.stringify({ ok: true, method: req.method, bodySha: bodySha(req.body) });
  const extra: string[] = [];
  if (path === '/page') {
    type = 'text/html; charset=utf-8';
    body = pageHtml();
  } else if (path === '/submit') {
    type = 'text/html; charset=utf-8';
    body = `<!doctype html><html><head><meta charset="utf-8"></head><body><h1 id="name">submitted</h1><pre id="result">${bodySha(req.body)}</pre><script>window.pageName = 'submitted';</script></body></html>`;
  } else if (path === '/frame-deny') {
    type = 'text/html; charset=utf-8';
    extra.push('X-Frame-Options: DENY', "Content-Security-Policy: frame-ancestors 'none'");
    body = `<!doctype html><html><head><meta charset="utf-8"></head><body><h1 id="name">framed</h1><script>window.pageName = 'framed';</script></body></html>`;
  } else if (path === '/strict-csp') {
    type = 'text/html; charset=utf-8';
    extra.push(`Content-Security-Policy: script-src 'nonce-${CSP_NONCE}' 'strict-dynamic'; object-src 'none'; base-uri 'none'`);
    body = `<!doctype html><html><head><meta charset="utf-8"></head><body><h1 id="name">strict</h1><script nonce="${CSP_NONCE}">window.pageName = 'strict'; window.wsIsShim = !/\\[native code\\]/.test(String(WebSocket));</script></body></html>`;
  }
  // Controls for the differential actions: ?status=302&location=… redirects, ?cookie=… sets one,
  // ?etag=… answers 304 to a matching If-None-Match, ?range=1 honours a Range of the fixed body below.
  const query = new URLSearchParams(req.target.split('?')[1] ?? '');
  const header = (n: string) => req.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (query.get('cookie')) extra.push(`Set-Cookie: ${query.get('cookie')}`);
  if (query.get('status')) status = Number(query.get('status'));
  if (query.get('location')) extra.push(`Location: ${query.get('location')}`);
  if (query.get('etag')) {
    extra.push(`ETag: "${query.get('etag')}"`);
    if (header('if-none-match') === `"${query.get('etag')}"`) status = 304;
  }
  if (path === '/download') {
    type = 'application/octet-stream';
    body = DOWNLOAD_BYTES;
    extra.push(`Content-Disposition: attachment; filename="${DOWNLOAD_NAME}"`);
  }
  if (path === '/range') {
    type = 'application/octet-stream';
    body = 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
    extra.push('Accept-Ranges: bytes');
    const m = /^bytes=(\d+)-(\d+)$/.exec(header('range') ?? '');
    if (m) {
      status = 206;
      extra.push(`Content-Range: bytes ${m[1]}-${m[2]}/${body.length}`);
      body = body.slice(Number(m[1]), Number(m[2]) + 1);
    }
  }
  const bytes = status === 304 ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'OK'}`,
    `Content-Type: ${type}`,
    `Content-Length: ${bytes.length}`,
    'Cache-Control: no-store',
    ...extra,
  ].join('\r\n');
  socket.write(`${head}\r\n\r\n`);
  if (req.method !== 'HEAD') socket.write(bytes);
}

/** Parses requests from `buf` as far as complete; returns the rest. Throws on malformed input. */
function parse(buf: Buffer, out: RecordedRequest[]): Buffer {
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_BYTES) throw new Error('head too large');
      return buf;
    }
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const [method, target] = lines[0]!.split(' ');
    const headers = lines.slice(1).map((l): [string, string] => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1).trim()];
    });
    const get = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
    let at = end + 4;
    if (get('upgrade').some((v) => v.toLowerCase() === 'websocket')) {
      out.push({ method: method!, target: target!, headers, framing: 'none', body: Buffer.alloc(0), upgrade: true });
      return buf.subarray(at);
    }
    let body: Buffer = Buffer.alloc(0);
    let framing: RecordedRequest['framing'] = 'none';
    if (get('transfer-encoding').some((v) => v.toLowerCase().includes('chunked'))) {
      framing = 'chunked';
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return buf;
        const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        if (buf.length < lineEnd + 2 + size + 2) return buf;
        if (size === 0) {
          // No trailers from browsers: the last chunk's CRLF ends the body.
          at = lineEnd + 4;
          break;
        }
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (get('content-length').length > 0) {
      framing = 'length';
      const n = Number(get('content-length')[0]);
      if (buf.length < at + n) return buf;
      body = Buffer.from(buf.subarray(at, at + n));
      at += n;
    }
    out.push({ method: method!, target: target!, headers, framing, body });
    buf = buf.subarray(at);
  }
}

export async function startRecordingApp(): Promise<RecordingApp> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const before = requests.length;
      try {
        buf = parse(buf, requests);
      } catch {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      for (const r of requests.slice(before)) {
        if (!r.upgrade) {
          respond(socket, r);
          continue;
        }
        socket.removeAllListeners('data');
        upgrade(socket, r, buf);
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    find: (target) => requests.filter((r) => r.target === target),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
