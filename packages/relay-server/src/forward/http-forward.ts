/**
 * One HTTP stream → one `http.request` to the local app (through the
 * forwarder's keep-alive Agent), its response written into the stream.
 * Every stream gets an answer: the app's response, a 400/502/504 page, or a
 * reset once a head has gone out.
 *
 * Why not http-proxy: it proxies a Node server's req/res pair, and here the
 * request arrives as frames on a multiplexed stream and the response leaves
 * as frames; there is no req/res to hand it. `http.request` is what
 * http-proxy itself calls underneath, without the adapter.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { ProtocolError, type HeaderList, type Stream } from '@wingman/protocol';
import { REQUEST_DRAIN_TIMEOUT_MS } from './constants';
import { badRequestPage, badResponsePage, timeoutPage, unreachablePage, type ErrorPage } from './error-page';
import { checkFraming, formatHostPort, fromRawHeaders, requestHeaders, toRawHeaders, withoutHopByHop, type TransportName } from './headers';
import { rewriteAppUrls, sessionOrigin } from './app-urls';
import { createRequestBody } from './request-body';
import { pipeBody, sendPage, withTransport } from './respond';
import type { ForwardContext } from './context';
import { createExchangeTap } from './capture';
import { compressForChannel, gzipBody, withChannelCoding } from './p2p-compress';

/** Methods that carry a body by definition; without one they get `content-length: 0`, as browsers send. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function forwardHttp(stream: Stream, transport: TransportName, ctx: ForwardContext, viewerId?: string): void {
  const { head } = stream;
  const tap = createExchangeTap(head, transport, viewerId, ctx.capture);
  const started = performance.now();
  const hostPort = formatHostPort(ctx.target);
  let state: 'waiting' | 'responding' | 'done' = 'waiting';
  let logged = false;
  let headTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let upstream: ClientRequest | undefined;
  let upstreamRes: IncomingMessage | undefined;
  /** The viewer's origin, from the head sent to the app (for response URLs that name the app). */
  let origin: string | undefined;

  const log = (status: number, error?: string) => {
    if (logged) return;
    logged = true;
    ctx.onRequest({ method: head.method, target: head.target, status, ms: Math.round(performance.now() - started), transport, ...(error ? { error } : {}) });
  };

  /** Stops the local request: the app sees its request closed. */
  const abortUpstream = () => {
    clearTimeout(headTimer);
    upstream?.destroy();
    upstreamRes?.destroy();
  };

  /** The answer is complete. Reads and drops an unfinished request body for a while, then resets. */
  const done = () => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(headTimer);
    tap.finish();
    if (body.complete || stream.closed) return;
    abortUpstream();
    body.discard();
    drainTimer = setTimeout(() => stream.reset('ERR_CANCEL', 'response complete'), REQUEST_DRAIN_TIMEOUT_MS);
  };

  const fail = (page: ErrorPage, error: string) => {
    if (state === 'done') return;
    abortUpstream();
    if (sendPage(stream, page, transport)) {
      log(page.status, error);
      tap.responseHead(page.status, withTransport(page.headers, transport));
      tap.responseChunk(page.body);
    } else {
      stream.reset('ERR_UPSTREAM_ERROR', error);
    }
    tap.finish(error);
    done();
  };

  const framing = checkFraming(head.headers);
  // Before the body's own listener, so the tap sees every chunk the app does.
  if (ctx.capture) stream.on('data', (chunk) => tap.requestChunk(chunk));
  // The app reads the request body before it answers: while the body still
  // arrives (a large upload over a slow path can take minutes), the wait for
  // the head counts from the latest chunk, not from the start of the request.
  stream.on('data', () => {
    if (state === 'waiting') headTimer?.refresh();
  });
  const body = createRequestBody(stream, {
    contentLength: framing.ok ? framing.contentLength : undefined,
    onFramingKnown: (hasBody) => {
      if (framing.ok && framing.contentLength === undefined && state === 'waiting') start(hasBody);
    },
    onViolation: (reason) => fail(badRequestPage(reason), 'ERR_INVALID_HEAD'),
  });

  stream.on('reset', (err) => {
    log(0, err.code);
    tap.finish(err.code);
    state = 'done';
    abortUpstream();
  });
  stream.on('close', () => clearTimeout(drainTimer));

  if (!framing.ok) return fail(badRequestPage(framing.reason), 'ERR_INVALID_HEAD');
  if (framing.contentLength !== undefined) start(framing.contentLength > 0);

  function start(hasBody: boolean): void {
    const headers: HeaderList = requestHeaders(head.headers, { target: ctx.target, hostHeader: ctx.hostHeader, transport });
    origin = sessionOrigin(headers);
    if (framing.ok && framing.contentLength === undefined) {
      // The stream frames the body; towards the app it is chunked (length unknown) or absent.
      if (hasBody) headers.push(['transfer-encoding', 'chunked']);
      else if (BODY_METHODS.has(head.method)) headers.push(['content-length', '0']);
    }
    try {
      // Headers as a raw list, written in this order, Host included. Node adds its Connection field,
      // and chunked framing to a method it expects a body for (not GET, HEAD, DELETE, OPTIONS) that declares none.
      upstream = request({
        agent: ctx.agent,
        host: ctx.target.host,
        port: ctx.target.port,
        method: head.method,
        path: head.target,
        headers: toRawHeaders(headers),
      });
    } catch (err) {
      // Node refuses a path or header value it cannot write (ERR_UNESCAPED_CHARACTERS, ERR_INVALID_CHAR).
      return fail(badRequestPage(err instanceof Error ? err.message : String(err)), 'ERR_INVALID_HEAD');
    }
    upstream.on('response', onResponse);
    upstream.on('error', onUpstreamError);
    headTimer = setTimeout(() => fail(timeoutPage(hostPort, ctx.timeoutMs), 'ERR_UPSTREAM_TIMEOUT'), ctx.timeoutMs);
    body.pipeTo(upstream);
  }

  function onUpstreamError(err: NodeJS.ErrnoException): void {
    // Once the head is out, the response's own end/abort decides (a request
    // body write failing after an early response must not cut the response).
    if (state !== 'waiting') return;
    const detail = err.code === 'ECONNRESET' ? 'the app closed the connection without answering' : `${err.code ?? 'error'}: ${err.message}`;
    fail(unreachablePage(hostPort, detail), err.code === 'ECONNREFUSED' ? 'ERR_UPSTREAM_UNREACHABLE' : 'ERR_UPSTREAM_ERROR');
  }

  function onResponse(res: IncomingMessage): void {
    res.on('error', () => undefined); // aborts are handled through 'close' in pipeBody
    if (state !== 'waiting' || stream.closed) return void res.destroy();
    clearTimeout(headTimer);
    upstreamRes = res;
    const status = res.statusCode ?? 502;
    const headers = withTransport(rewriteAppUrls(withoutHopByHop(fromRawHeaders(res.rawHeaders)), ctx.appAddress, origin), transport);
    // RFC 9110 §6.4.1: HEAD, 204 and 304 responses never carry content.
    const noBody = head.method === 'HEAD' || status === 204 || status === 304;
    // Over P2P a text body may cross the channel gzipped (p2p-compress.ts); the log and the inspector see the app's.
    const gzip = transport === 'p2p' && !noBody && compressForChannel(head, status, headers);
    try {
      // respond() encodes the head before anything else: one the wire cannot carry throws and leaves the stream free for a 502.
      stream.respond({ status, headers: gzip ? withChannelCoding(headers) : headers }, { end: noBody });
    } catch (err) {
      // Not thrown from a listener: a non-protocol error here would be a bug, and still only this stream's.
      if (!(err instanceof ProtocolError)) process.emitWarning(`wingman forwarder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return fail(badResponsePage(hostPort, err instanceof ProtocolError ? err.message : 'internal error'), 'ERR_UPSTREAM_ERROR');
    }
    state = 'responding';
    log(status);
    tap.responseHead(status, headers);
    if (noBody) {
      res.resume();
      return done();
    }
    if (ctx.capture) res.on('data', (chunk: Buffer) => tap.responseChunk(chunk));
    pipeBody(gzip ? gzipBody(res) : res, stream, {
      onEnd: done,
      onAbort: (reason) => {
        if (state === 'done') return;
        tap.finish('ERR_UPSTREAM_ERROR');
        stream.reset('ERR_UPSTREAM_ERROR', reason);
        state = 'done';
        abortUpstream();
      },
    });
  }
}
