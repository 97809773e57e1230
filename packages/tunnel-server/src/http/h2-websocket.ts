/**
 * WebSockets over HTTP/2 (RFC 8441): a browser opens them as an extended CONNECT stream on the connection it has,
 * two or three round trips sooner than a new TLS connection (docs/lab.md). Every upgrade handler speaks HTTP/1.1
 * Upgrade to a socket, so the stream is handed to them in that shape: a `GET` with `Upgrade: websocket` and a key of
 * our own, and a socket whose first bytes written (an HTTP/1.1 head) become the stream's response (`101` → `200`, RFC
 * 8441 §5; anything else with its headers and body, hop-by-hop fields dropped); then the frames go as DATA.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { constants, type Http2ServerRequest, type Http2ServerResponse, type OutgoingHttpHeaders } from 'node:http2';
import { Duplex } from 'node:stream';
import { asHttp1Request } from './http2-compat';

/** The protocol an extended CONNECT must name for this server to take it (RFC 8441 §4). */
const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * Longest response head an upgrade handler may write before it is given up as malformed, bytes. The server writes
 * these heads itself (a `ws` 101 or a short refusal), far below this.
 */
const UPGRADE_RESPONSE_HEAD_MAX_BYTES = 16 * 1024;

/** Header fields of an HTTP/1.1 response that HTTP/2 forbids or that an extended CONNECT answers without (RFC 9113 §8.2.2, RFC 8441 §5). */
const DROPPED_RESPONSE_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'sec-websocket-accept']);

export function isWebSocketConnect(req: Http2ServerRequest): boolean {
  return req.method === 'CONNECT' && req.headers[':protocol'] === WEBSOCKET_PROTOCOL;
}

/** Parses `HTTP/1.1 <status> <reason>\r\n<name>: <value>\r\n…` (the text before the blank line): status and header fields. */
export function parseResponseHead(text: string): { status: number; headers: Array<[name: string, value: string]> } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(m[1]), headers };
}

/** The HTTP/2 response for a parsed HTTP/1.1 head: `101` becomes `200`; hop-by-hop fields and the accept key go. */
export function http2ResponseFor(head: NonNullable<ReturnType<typeof parseResponseHead>>): { status: number; headers: OutgoingHttpHeaders } {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of head.headers) {
    if (DROPPED_RESPONSE_FIELDS.has(name)) continue;
    const had = headers[name];
    headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [String(had), value];
  }
  return { status: head.status === 101 ? 200 : head.status, headers };
}

/** The socket an upgrade handler writes to, over one extended CONNECT stream. Reads come from the request (the stream's DATA), writes go to the response. */
class ConnectStreamSocket extends Duplex {
  private head: Buffer | undefined = Buffer.alloc(0);
  private readonly session;

  constructor(
    private readonly req: Http2ServerRequest,
    private readonly res: Http2ServerResponse,
  ) {
    super({ allowHalfOpen: true });
    this.session = req.stream.session;
    req.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) req.pause();
    });
    req.on('end', () => this.push(null));
    req.on('error', (err) => this.destroy(err));
    res.stream.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
    req.pause();
  }

  get remoteAddress(): string | undefined {
    return this.session?.socket?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.session?.socket?.remotePort;
  }

  /** `ws` calls these on a TCP socket; a stream has the connection's settings, so they do nothing. */
  readonly setNoDelay = (): this => this;
  readonly setKeepAlive = (): this => this;
  readonly setTimeout = (): this => this;

  override _read(): void {
    this.req.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.head === undefined) return void this.res.write(chunk, () => done());
    const buffered = Buffer.concat([this.head, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffered.length > UPGRADE_RESPONSE_HEAD_MAX_BYTES) return done(new Error('upgrade response head too long'));
      this.head = buffered;
      return done();
    }
    this.head = undefined;
    const parsed = parseResponseHead(buffered.subarray(0, end).toString('latin1'));
    if (!parsed) return done(new Error('malformed upgrade response head'));
    const { status, headers } = http2ResponseFor(parsed);
    this.res.writeHead(status, headers);
    const rest = buffered.subarray(end + 4);
    if (rest.length === 0) return done();
    this.res.write(rest, () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.res.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const stream = this.res.stream;
    if (!stream.destroyed && !stream.closed) stream.close(err ? constants.NGHTTP2_INTERNAL_ERROR : constants.NGHTTP2_CANCEL);
    done(err);
  }
}

/** Is this upgrade socket an extended CONNECT stream (its peer may send up to the stream's receive window while it is paused)? */
export function isConnectStreamSocket(socket: Duplex): boolean {
  return socket instanceof ConnectStreamSocket;
}

/**
 * An extended CONNECT made to look like an HTTP/1.1 WebSocket upgrade: the request (`GET`, `Upgrade: websocket`,
 * `Connection: Upgrade`, a fresh `Sec-WebSocket-Key`, the stream's own fields), and the socket to answer on.
 */
export function asHttp1Upgrade(req: Http2ServerRequest, res: Http2ServerResponse): { req: IncomingMessage; socket: Duplex; head: Buffer } {
  const path = req.headers[':path'];
  const socket = new ConnectStreamSocket(req, res);
  const upgrade = asHttp1Request(req);
  const added: Array<[string, string]> = [
    ['upgrade', WEBSOCKET_PROTOCOL],
    ['connection', 'Upgrade'],
    ['sec-websocket-key', randomBytes(16).toString('base64')],
  ];
  for (const [name, value] of added) {
    upgrade.headers[name] = value;
    upgrade.rawHeaders.push(name, value);
  }
  delete upgrade.headers[':protocol'];
  upgrade.method = 'GET';
  upgrade.url = typeof path === 'string' && path !== '' ? path : '/';
  return { req: upgrade, socket, head: Buffer.alloc(0) };
}
