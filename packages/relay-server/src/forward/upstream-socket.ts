/**
 * The sockets of the forwarder's connections to the local app (upstream.ts's
 * Pools connect through guardedConnector), with guards around undici 7's
 * HTTP/1 client:
 *
 * - The app closes the connection while undici's parser is paused. The
 *   forwarder pauses the parser while a viewer's stream is full
 *   (http-forward.ts). An app that closes the connection after each
 *   response (HTTP/1.0 servers: Python's `http.server`, `wsgiref`, `mkdocs
 *   serve`; `Connection: close`) often has its FIN read along with the last
 *   bytes of the body, or while the parser is paused on them. Node then
 *   emits the socket's 'end', and undici 7's 'end' listener calls
 *   Parser.finish() on the paused parser, whose `assert(!this.paused)`
 *   throws out of the listener: uncaught, it ended the process. undici
 *   fixed it in 8.6.0 (finish() resumes a paused parser and drains the
 *   socket first), but undici 8 needs Node >= 22.19 and Wingman runs on
 *   Node 20. So the socket holds back 'end' while the parser is paused
 *   (undici keeps it on the socket) and emits it once the parser runs
 *   again: after the forwarder resumed it, undici reads from the socket,
 *   and on the tick after such a read 'end' goes out if the parser did not
 *   pause again. The response then completes as the app sent it.
 * - The app resets the connection while the parser is paused: undici 7
 *   finishes the parser on ECONNRESET too (the same assertion). The reset
 *   reaches it as an error of another code, which fails the request.
 * - An exception thrown by any listener of the socket (undici's, which run
 *   the parser) is reported on stderr and destroys this connection with
 *   that error instead of going uncaught: undici fails the one request on
 *   it (pipelining 1) and the forwarder fails that exchange with the
 *   error's message. (On a connection already closed, a throw from its
 *   'error' or 'close' listener can only be reported.)
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { createContinueSkipper } from './unasked-continue';
import type { TargetTlsOptions } from './target';

/** The code of the error a connection is destroyed with after a listener of its socket threw: the agent's fault, not the app's. */
export const HTTP_CLIENT_FAULT = 'WINGMAN_HTTP_CLIENT_FAULT';

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
type Read = (size?: number) => unknown;
type Write = (...args: unknown[]) => boolean;

/** Set on the error of a connection that closed after carrying a response and before any byte of the next one. */
const CLOSED_UNANSWERED_ON_REUSE = Symbol('closed unanswered on reuse');

/** Whether `err` ended a request on a reused connection that the app closed before any byte of its answer. */
export function closedUnansweredOnReuse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[CLOSED_UNANSWERED_ON_REUSE] === true;
}

/** undici's own connector (same defaults as a Pool without `connect`, plus `tls` for an https target), its sockets guarded. */
export function guardedConnector(tls?: TargetTlsOptions): buildConnector.connector {
  const connect = buildConnector({ ...tls });
  return (options, callback) =>
    connect(options, (...args) => {
      if (args[0] === null) guardSocket(args[1]);
      callback(...args);
    });
}

/** undici 7 keeps a connection's HTTP/1 parser on its socket under a symbol described 'parser'. */
let parserKey: symbol | undefined;

/** Whether the client's parser of `socket` is paused (false when there is none, or undici keeps it elsewhere). */
function parserPaused(socket: Socket): boolean {
  parserKey ??= Object.getOwnPropertySymbols(socket).find((key) => key.description === 'parser');
  if (parserKey === undefined) return false;
  const parser = (socket as unknown as Record<symbol, { paused?: unknown } | null | undefined>)[parserKey];
  return parser?.paused === true;
}

/** Whether `data`, written to the socket, is a request head: undici writes each as one string from its request line (`GET / HTTP/1.1`). */
function isRequestHead(data: unknown): boolean {
  if (typeof data !== 'string') return false;
  const lineEnd = data.indexOf('\r\n');
  return lineEnd > 0 && data.slice(0, lineEnd).endsWith(' HTTP/1.1');
}

/** Installs the guards on one socket, before the client adds its listeners. */
function guardSocket(socket: Socket): void {
  const target = socket as unknown as { emit: Emit; read: Read; write: Write };
  const emit = target.emit;
  const read = target.read;
  const write = target.write;
  /** What the socket had read when the current request's first bytes went out (one request at a time: pipelining 1). */
  let readAtRequest = 0;
  let readAtLastWrite = -1;
  const continues = createContinueSkipper();
  const allowHalfOpen = socket.allowHalfOpen;
  let endHeld = false;
  let checkQueued = false;

  /** A held 'end' goes out once the parser runs: checked after each of its reads, which it makes as it resumes. */
  const releaseEnd = () => {
    checkQueued = false;
    if (!endHeld || parserPaused(socket)) return;
    endHeld = false;
    socket.allowHalfOpen = allowHalfOpen;
    if (socket.destroyed) return;
    target.emit.call(socket, 'end');
    // What Node does after an 'end': a socket that is not half-open ends its own side too.
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
    // The first write since bytes last arrived starts a request: the previous response was read whole.
    if (this.bytesRead !== readAtLastWrite) readAtRequest = readAtLastWrite = this.bytesRead;
    if (isRequestHead(args[0])) continues.requestWritten();
    return write.apply(this, args);
  };

  target.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    // Whatever ends the connection ('other side closed', ECONNRESET, EPIPE) reaches undici as an 'error' of the socket.
    if (event === 'error' && readAtRequest > 0 && this.bytesRead === readAtRequest && typeof args[0] === 'object' && args[0] !== null) {
      Object.defineProperty(args[0], CLOSED_UNANSWERED_ON_REUSE, { value: true });
    }
    if (event === 'end' && parserPaused(socket)) {
      endHeld = true;
      // Node ends a socket's own side right after its 'end' unless it is half-open: not before the 'end' is out.
      socket.allowHalfOpen = true;
      return true;
    }
    if (event === 'error' && parserPaused(socket) && (args[0] as { code?: unknown } | undefined)?.code === 'ECONNRESET') {
      // undici 7 also finishes the parser on ECONNRESET after a response without keep-alive, the same assertion when it is
      // paused. As an error of another code it fails the request; the rest of the body went with the connection anyway.
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
