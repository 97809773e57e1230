/**
 * HTTP/2 next to HTTP/1.1 on the server's own TLS port (`--http2`). Node's compat objects
 * (Http2ServerRequest/-Response) are made to look like an HTTP/1.1 request at the door, so routing, access, the relay
 * and the apex read one shape: the `:authority` pseudo-header becomes `host`, and no pseudo-header (`:method`,
 * `:path`, `:scheme`, `:authority`) stays in `headers`/`rawHeaders` to be relayed to the agent. Ending a response
 * abnormally closes only its stream: the connection carries the browser's other requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  constants,
  Http2ServerRequest,
  Http2ServerResponse,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createResetBudget } from './h2-reset-budget';
import { isNavigation } from './is-navigation';

/**
 * Concurrent streams per HTTP/2 connection: nginx's default, plenty for a page's hundreds of modules (the browser
 * queues the rest), while one connection cannot hold thousands of streams' buffers.
 */
export const HTTP2_MAX_CONCURRENT_STREAMS = 128;

/**
 * Receive window of each HTTP/2 stream, bytes (SETTINGS_INITIAL_WINDOW_SIZE): how much of an upload the browser may
 * send before the server's WINDOW_UPDATE. With the protocol's 64 KiB default an upload runs at one window per round
 * trip: measured 0.5 MB/s at 80 ms RTT (the network lab), against 7 MB/s over HTTP/1.1 (TCP's own window). 2 MiB
 * carries 25 MB/s at 80 ms. The relay pauses a request whose agent stream is full, and the window is not re-opened
 * until the relay reads, so this bounds what one upload may buffer.
 */
export const HTTP2_STREAM_WINDOW_BYTES = 2 * 1024 * 1024;

/** Receive window of a whole HTTP/2 connection, bytes: a few full-speed uploads at once, and what they may buffer here. */
const HTTP2_CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * An HTTP/2 connection with no open stream this long is closed (GOAWAY), as HTTP/1.1 keep-alive ones are (above the
 * 60 s idle timeout of common proxies); an open stream (server-sent events, a long poll) keeps it.
 */
const HTTP2_IDLE_TIMEOUT_MS = 65_000;

export function isHttp2Request(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return req instanceof Http2ServerRequest;
}

/** HTTP/2 has no Transfer-Encoding and Content-Length is optional: a body unless HEADERS ended the stream. Undefined for HTTP/1.1. */
export function http2RequestHasBody(req: IncomingMessage): boolean | undefined {
  const r = req as unknown as IncomingMessage | Http2ServerRequest;
  return isHttp2Request(r) ? !r.stream.endAfterHeaders : undefined;
}

export function isHttp2Response(res: ServerResponse): boolean {
  return (res as unknown) instanceof Http2ServerResponse;
}

/**
 * Rewrites an HTTP/2 request in place into the HTTP/1.1 shape and returns it typed so: `host` from `:authority` (RFC
 * 9113 §8.3.1: it wins over a Host field), pseudo-headers out of `headers` and `rawHeaders`. `method` and `url`
 * (getters over the pseudo-headers) are kept as plain properties.
 */
export function asHttp1Request(req: Http2ServerRequest): IncomingMessage {
  const headers = req.headers;
  const authority = headers[':authority'] ?? headers.host;
  for (const name of ['method', 'url', 'authority', 'scheme'] as const) {
    Object.defineProperty(req, name, { value: req[name], writable: true, configurable: true, enumerable: true });
  }
  const raw: string[] = authority ? ['host', authority] : [];
  const given = req.rawHeaders;
  for (let i = 0; i + 1 < given.length; i += 2) {
    const name = given[i]!;
    if (name.startsWith(':') || name.toLowerCase() === 'host') continue;
    raw.push(name, given[i + 1]!);
  }
  // rawHeaders is a getter on the compat class; the access gate and the viewer tag assign it.
  Object.defineProperty(req, 'rawHeaders', { value: raw, writable: true, configurable: true, enumerable: true });
  for (const name of Object.keys(headers)) if (name.startsWith(':')) delete headers[name];
  if (authority) headers.host = authority;
  return req as unknown as IncomingMessage;
}

/**
 * Ends the exchange of `res`: HTTP/1.1 closes the connection once what was written is flushed; HTTP/2 resets only this
 * stream, so the connection's others go on. `cut`: the response cannot complete as a whole message (a body shorter
 * than its Content-Length; the reset says INTERNAL_ERROR). Otherwise the response is complete and the rest of the
 * request's body is refused rather than read and discarded (the reset says NO_ERROR, RFC 9113 §8.1; HTTP/1.1 needs
 * `connection: close` set first: closeAfterResponse()).
 */
export function closeExchange(res: ServerResponse, cut: boolean): void {
  if (isHttp2Response(res)) {
    const stream = (res as unknown as Http2ServerResponse).stream;
    if (!stream.destroyed) stream.close(cut ? constants.NGHTTP2_INTERNAL_ERROR : constants.NGHTTP2_NO_ERROR);
  } else if (res.socket) res.socket.destroySoon();
  else if (cut) res.destroy();
}

/**
 * Writes what is left and ends the response, then closes its HTTP/1.1 connection (whose message boundary can no
 * longer be trusted). HTTP/2 frames each message: ending the stream is enough.
 */
export function endAndClose(res: ServerResponse): void {
  const socket = isHttp2Response(res) ? undefined : res.socket;
  res.end(() => socket?.destroySoon());
}

/**
 * Did the response end before its 'close' (rather than the viewer going away)? HTTP/1.1: all of it was flushed. HTTP/2:
 * the server ended it (the compat response is `writableFinished` on any stream close, a cancelled one too).
 */
export function responseCompleted(res: ServerResponse): boolean {
  return isHttp2Response(res) ? res.writableEnded : res.writableFinished;
}

/** Sets `connection: close` on an HTTP/1.1 response (HTTP/2 has no such field: Node warns and drops it). */
export function closeAfterResponse(res: ServerResponse): void {
  if (!isHttp2Response(res) && !res.headersSent) res.setHeader('connection', 'close');
}

/**
 * Stream-reset tokens (h2-reset-budget.ts) below which a connection is retired between two page loads: at a document
 * request, or after HTTP2_RETIRE_QUIET_MS without a request. Half the library's burst: about two reloads of a
 * 300-module page.
 */
const HTTP2_RETIRE_WHEN_QUIET_BELOW = 500;

/** No request for this long counts as between page loads: longer than a load's pauses while the browser parses what came. */
export const HTTP2_RETIRE_QUIET_MS = 1_000;

/**
 * Stream-reset tokens below which a connection is retired at once, mid-load if need be: Chromium fails the requests
 * it holds back for a free stream when any GOAWAY comes, but the library's own GOAWAY fails more. The margin covers
 * the refill's rounding to whole seconds.
 */
const HTTP2_RETIRE_AT = 100;

/** Why a connection was retired before its client or its idle timer closed it. */
type Http2RetireReason = 'resets-navigation' | 'resets-quiet' | 'resets-limit';

/** Does this request load a document (a page or a frame: Sec-Fetch-Dest, kept when a Service Worker fetches it)? */
function isDocumentRequest(headers: IncomingHttpHeaders): boolean {
  return ['document', 'iframe', 'frame'].includes(String(headers['sec-fetch-dest'])) || isNavigation(headers);
}

/**
 * Each HTTP/2 connection: its receive window, a GOAWAY after HTTP2_IDLE_TIMEOUT_MS without an open stream, and a
 * GOAWAY (NO_ERROR) before the client's stream resets could exhaust the library's allowance (the thresholds above). A
 * retired connection finishes the streams it took (a WebSocket's too) and closes; `onRetire` hears of it (logs).
 */
export function manageHttp2Sessions(server: Http2SecureServer, onRetire: (reason: Http2RetireReason, streams: number) => void): void {
  server.on('session', (session: ServerHttp2Session) => {
    session.once('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(HTTP2_CONNECTION_WINDOW_BYTES);
    });
    const budget = createResetBudget();
    let streams = 0;
    let open = 0;
    /** Open streams that end with their exchange (not WebSockets). */
    let requests = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const live = () => !session.closed && !session.destroyed;
    const arm = () => {
      timer = setTimeout(() => {
        if (live()) session.close();
      }, HTTP2_IDLE_TIMEOUT_MS);
      timer.unref();
    };
    const retire = (reason: Http2RetireReason) => {
      if (!live()) return;
      onRetire(reason, streams);
      session.close();
    };
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      streams++;
      open++;
      budget.take(Date.now());
      // A WebSocket over HTTP/2 (extended CONNECT) stays open for the page's life.
      const request = headers[':method'] !== 'CONNECT';
      if (request) requests++;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (quiet) clearTimeout(quiet);
      quiet = undefined;
      stream.once('close', () => {
        if (request) requests--;
        if (--open === 0 && live()) arm();
        if (requests === 0 && !quiet && budget.left(Date.now()) < HTTP2_RETIRE_WHEN_QUIET_BELOW) {
          quiet = setTimeout(() => retire('resets-quiet'), HTTP2_RETIRE_QUIET_MS);
          quiet.unref();
        }
      });
      const left = budget.left(Date.now());
      if (left < HTTP2_RETIRE_AT) retire('resets-limit');
      else if (left < HTTP2_RETIRE_WHEN_QUIET_BELOW && isDocumentRequest(headers)) retire('resets-navigation');
    });
    session.once('close', () => {
      clearTimeout(timer);
      clearTimeout(quiet);
    });
    arm();
  });
}
