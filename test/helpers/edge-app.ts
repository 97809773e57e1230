/**
 * An app whose responses are framed the way stock servers frame them at
 * their edges, written byte for byte on a raw TCP socket (node:http would
 * refuse or repair most of them): chunked bodies with trailers, a `103 Early
 * Hints` before the final response, an upload answered with its SHA-256
 * (after a `100 Continue` when the client sent `Expect: 100-continue`; on
 * `/unasked-continue`, after two it sends unasked, as RFC 9110 lets a server),
 * HEAD, 204 and 304 with and without the body a sloppy server sends
 * anyway, and a body cut mid-way by a closed connection. Keep-alive unless
 * a route closes.
 *
 * With `closeReused`, every connection serves one request, and the next
 * request that arrives on it closes it unanswered (`'close'`: a FIN;
 * `'reset'`: an RST, as a request written to a socket its peer has
 * already closed meets): an idle keep-alive
 * connection the server closes just as a client reuses it (nginx's
 * `keepalive_timeout`, Node's `keepAliveTimeout`), made certain rather than
 * a race the test would have to win.
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { patternBytes } from './fixture-app';

export interface EdgeApp {
  port: number;
  /** Requests the app read, in order: `METHOD target` (a request it closed the connection on included). */
  requests: string[];
  /** With `closeReused`: the requests it closed a reused connection on, unanswered. */
  closedOnReuse(): number;
  close(): Promise<void>;
}

/** The page the shell's frame shows: `window.pageName = 'edge'`. */
const INDEX = '<!doctype html><html><head><meta charset="utf-8"><title>edge</title></head><body><script>window.pageName = "edge";</script></body></html>';

interface Request {
  method: string;
  target: string;
  headers: Map<string, string>;
  body: Buffer;
}

const head = (status: string, fields: Array<[string, string | number]>) =>
  Buffer.from(`HTTP/1.1 ${status}\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1');

/** Writes the answer to `req`; resolves false when the route closed the connection. */
function answer(socket: Socket, req: Request): boolean {
  const [path, query = ''] = req.target.split('?');
  const n = Number(new URLSearchParams(query).get('n') ?? '0');
  const isHead = req.method === 'HEAD';
  const send = (status: string, fields: Array<[string, string | number]>, body: Buffer = Buffer.alloc(0)) => {
    socket.write(Buffer.concat([head(status, fields), isHead ? Buffer.alloc(0) : body]));
    return true;
  };
  switch (path) {
    case '/':
      return send(
        '200 OK',
        [
          ['Content-Type', 'text/html'],
          ['Content-Length', Buffer.byteLength(INDEX)],
        ],
        Buffer.from(INDEX),
      );
    case '/bytes':
      return send(
        '200 OK',
        [
          ['Content-Type', 'application/octet-stream'],
          ['Content-Length', n],
        ],
        patternBytes(n),
      );
    case '/trailers': {
      // Chunked, in uneven chunks, with a trailer section naming the body's SHA-256.
      const body = patternBytes(n);
      const sha = createHash('sha256').update(body).digest('hex');
      const parts: Buffer[] = [
        head('200 OK', [
          ['Content-Type', 'application/octet-stream'],
          ['Transfer-Encoding', 'chunked'],
          ['Trailer', 'X-Body-Sha256'],
        ]),
      ];
      if (!isHead) {
        for (let at = 0, size = 1; at < n; at += size, size = Math.min(size * 7, 100_003)) {
          const piece = body.subarray(at, at + size);
          parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
        }
        parts.push(Buffer.from(`0\r\nX-Body-Sha256: ${sha}\r\n\r\n`));
      }
      socket.write(Buffer.concat(parts));
      return true;
    }
    case '/early-hints':
      socket.write(head('103 Early Hints', [['Link', '</bytes?n=1>; rel=preload; as=fetch']]));
      return send(
        '200 OK',
        [
          ['Content-Type', 'application/octet-stream'],
          ['Content-Length', n],
        ],
        patternBytes(n),
      );
    case '/upload':
    case '/unasked-continue': {
      // The app answers with the SHA-256 of what it received.
      const sha = createHash('sha256').update(req.body).digest('hex');
      return send(
        '200 OK',
        [
          ['Content-Type', 'text/plain'],
          ['Content-Length', sha.length],
        ],
        Buffer.from(sha),
      );
    }
    case '/204':
      return send('204 No Content', []);
    case '/304':
      return send('304 Not Modified', [['ETag', '"zoo"']]);
    // A server that sends a body where the status allows none (and says so with its Content-Length).
    case '/204-with-body':
      return send('204 No Content', [['Content-Length', 5]], Buffer.from('stray'));
    case '/304-with-body':
      return send(
        '304 Not Modified',
        [
          ['ETag', '"zoo"'],
          ['Content-Length', 5],
        ],
        Buffer.from('stray'),
      );
    case '/hang-up':
      // No answer at all: the connection closes on the request.
      socket.destroy();
      return false;
    case '/cut':
      // Half the announced body, then the connection closes.
      socket.end(
        Buffer.concat([
          head('200 OK', [
            ['Content-Type', 'application/octet-stream'],
            ['Content-Length', n],
          ]),
          patternBytes(Math.floor(n / 2)),
        ]),
      );
      return false;
    case '/cut-chunked': {
      const half = patternBytes(Math.floor(n / 2));
      socket.end(
        Buffer.concat([
          head('200 OK', [
            ['Content-Type', 'application/octet-stream'],
            ['Transfer-Encoding', 'chunked'],
          ]),
          Buffer.from(`${n.toString(16)}\r\n`),
          half,
        ]),
      );
      return false;
    }
    default:
      return send(
        '404 Not Found',
        [
          ['Content-Type', 'text/plain'],
          ['Content-Length', 9],
        ],
        Buffer.from('not found'),
      );
  }
}

/** Reads requests off one connection (Content-Length bodies only: what browsers and the agent send here) and answers them in order. */
function serveConnection(socket: Socket, requests: string[], closeReused: EdgeAppOptions['closeReused'], onClosedReused: () => void): void {
  let buffered = Buffer.alloc(0);
  let served = 0;
  let pending: { req: Request; length: number } | undefined;
  socket.on('error', () => undefined);
  socket.on('data', (data: Buffer) => {
    buffered = Buffer.concat([buffered, data]);
    for (;;) {
      if (!pending) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [line = '', ...fields] = buffered.subarray(0, end).toString('latin1').split('\r\n');
        buffered = buffered.subarray(end + 4);
        const [method = '', target = ''] = line.split(' ');
        const headers = new Map(fields.map((f) => [f.slice(0, f.indexOf(':')).trim().toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
        requests.push(`${method} ${target}`);
        if (closeReused !== undefined && served > 0) {
          onClosedReused();
          return void (closeReused === 'reset' ? socket.resetAndDestroy() : socket.destroy());
        }
        pending = { req: { method, target, headers, body: Buffer.alloc(0) }, length: Number(headers.get('content-length') ?? '0') };
        // RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` waits for this before it sends the body.
        if (headers.get('expect')?.toLowerCase() === '100-continue') socket.write(head('100 Continue', []));
        else if (target.startsWith('/unasked-continue')) socket.write(Buffer.concat([head('100 Continue', []), head('100 Continue', [])]));
      }
      if (buffered.length < pending.length) return;
      pending.req.body = buffered.subarray(0, pending.length);
      buffered = buffered.subarray(pending.length);
      const { req } = pending;
      pending = undefined;
      served++;
      if (!answer(socket, req)) return;
    }
  });
}

export interface EdgeAppOptions {
  /** Close each connection, unanswered, when its second request arrives: with a FIN or with an RST. Default: keep-alive. */
  closeReused?: 'close' | 'reset';
}

export async function startEdgeApp(options: EdgeAppOptions = {}): Promise<EdgeApp> {
  const requests: string[] = [];
  let closedOnReuse = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, requests, options.closeReused, () => closedOnReuse++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    closedOnReuse: () => closedOnReuse,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
