/**
 * The sockets of the forwarder's connections to the local app, guarded against undici 7's HTTP/1 client (fixed in
 * undici 8.6, which needs Node >= 22.19; Wingman runs on Node 20):
 * - An app that closes after each response (HTTP/1.0 servers, `Connection: close`) often has its FIN read while the
 *   parser is paused (the forwarder pauses it while a viewer's stream is full); undici's 'end' listener then finishes
 *   the paused parser and its `assert(!this.paused)` ended the process. The socket holds 'end' back until the parser
 *   runs again.
 * - ECONNRESET while paused hits the same assertion: it goes on as an error of another code, which fails the request.
 * - A throw from any listener of the socket destroys that connection with HTTP_CLIENT_FAULT instead of going
 *   uncaught: one exchange fails.
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector } from 'undici';
import { createContinueSkipper } from './unasked-continue';
import type { TargetTlsOptions } from './target';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- undici's connector alone (upstream.ts says why)
const buildConnector = require('undici/lib/core/connect') as typeof BuildConnector;

/** The agent's fault, not the app's: a listener of the connection's socket threw. */
export const HTTP_CLIENT_FAULT = 'WINGMAN_HTTP_CLIENT_FAULT';

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
type Read = (size?: number) => unknown;
type Write = (...args: unknown[]) => boolean;

/** Set on the error of a connection that closed after carrying a response and before any byte of the next one. */
const CLOSED_UNANSWERED_ON_REUSE = Symbol('closed unanswered on reuse');

/** A request on a reused connection that the app closed before any byte of its answer. */
export function closedUnansweredOnReuse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[CLOSED_UNANSWERED_ON_REUSE] === true;
}

/** undici's own connector (a Pool's defaults, plus `tls` for an https target), its sockets guarded. */
export function guardedConnector(tls?: TargetTlsOptions): BuildConnector.connector {
  const connect = buildConnector({ ...tls });
  return (options, callback) =>
    connect(options, (...args) => {
      if (args[0] === null) guardSocket(args[1]);
      callback(...args);
    });
}

/** undici 7 keeps the parser on its socket under a symbol described 'parser'. */
let parserKey: symbol | undefined;

function parserPaused(socket: Socket): boolean {
  parserKey ??= Object.getOwnPropertySymbols(socket).find((key) => key.description === 'parser');
  if (parserKey === undefined) return false;
  const parser = (socket as unknown as Record<symbol, { paused?: unknown } | null | undefined>)[parserKey];
  return parser?.paused === true;
}

/** undici writes each request head as one string from its request line. */
function isRequestHead(data: unknown): boolean {
  if (typeof data !== 'string') return false;
  const lineEnd = data.indexOf('\r\n');
  return lineEnd > 0 && data.slice(0, lineEnd).endsWith(' HTTP/1.1');
}

/** Before the client adds its listeners. */
function guardSocket(socket: Socket): void {
  const target = socket as unknown as { emit: Emit; read: Read; write: Write };
  const emit = target.emit;
  const read = target.read;
  const write = target.write;
  /** bytesRead when the current request's first bytes went out (pipelining 1). */
  let readAtRequest = 0;
  let readAtLastWrite = -1;
  const continues = createContinueSkipper();
  const allowHalfOpen = socket.allowHalfOpen;
  let endHeld = false;
  let checkQueued = false;

  /** A held 'end' goes out once the parser runs: checked after each of its reads. */
  const releaseEnd = () => {
    checkQueued = false;
    if (!endHeld || parserPaused(socket)) return;
    endHeld = false;
    socket.allowHalfOpen = allowHalfOpen;
    if (socket.destroyed) return;
    target.emit.call(socket, 'end');
    // As Node does after an 'end': a socket that is not half-open ends its own side.
    if (!allowHalfOpen && socket.writable && !socket.writableEnded && !socket.destroyed) socket.end();
  };

  target.read = function (this: Socket, size?: number) {
    if (endHeld && !checkQueued) {
      checkQueued = true;
      process.nextTick(releaseEnd);
    }
    const chunk = read.call(this, size);
    return Buffer.isBuffer(chunk) ? continues.read(chunk) : chunk;
  };

  target.write = function (this: Socket, ...args: unknown[]) {
    // The first write since bytes last arrived starts a request.
    if (this.bytesRead !== readAtLastWrite) readAtRequest = readAtLastWrite = this.bytesRead;
    if (isRequestHead(args[0])) continues.requestWritten();
    return write.apply(this, args);
  };

  target.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    // Whatever ends the connection reaches undici as an 'error' of the socket.
    if (event === 'error' && readAtRequest > 0 && this.bytesRead === readAtRequest && typeof args[0] === 'object' && args[0] !== null) {
      Object.defineProperty(args[0], CLOSED_UNANSWERED_ON_REUSE, { value: true });
    }
    if (event === 'end' && parserPaused(socket)) {
      endHeld = true;
      // Node ends the own side right after 'end' unless half-open: not before the 'end' is out.
      socket.allowHalfOpen = true;
      return true;
    }
    if (event === 'error' && parserPaused(socket) && (args[0] as { code?: unknown } | undefined)?.code === 'ECONNRESET') {
      // The same assertion on ECONNRESET; the rest of the body went with the connection anyway.
      const reset = args[0] as Error;
      args = [Object.assign(new Error(`the app reset the connection (${reset.message})`, { cause: reset }), { code: 'UND_ERR_SOCKET' })];
    }
    try {
      return emit.call(this, event, ...args);
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      process.emitWarning(`wingman forwarder: a connection to the app failed in the HTTP client: ${cause.stack ?? cause.message}`);
      const message = `the agent's HTTP client failed on this connection (${cause.message.replace(/\s+/g, ' ').trim()})`;
      this.destroy(Object.assign(new Error(message, { cause }), { code: HTTP_CLIENT_FAULT }));
      return true;
    }
  };
}
