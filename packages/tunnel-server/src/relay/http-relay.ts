/**
 * Relays one viewer HTTP request over the session's agent connection as an 'http' stream: head and body out, response
 * head and body back, with backpressure both ways (a slow viewer pauses the stream, which withholds window credit
 * from the agent; a slow agent pauses the viewer's upload). Every request gets an answer: the response, or an error
 * page chosen from the stream's error code, or a cut connection once a response has started.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyLengthGuard, declaredBodyLength, ProtocolError, type BufferBudget, type BufferHold, type Connection, type Stream } from '@wingman/protocol';
import { sendPage } from '../http/pages';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { relayErrorPage } from './error-page';
import { applySwCookieBridge, bridgeSwResponse, isSwRelayRequest } from '../browser/cookie-bridge';
import { hostnameOf } from '../http/host-route';
import { closeAfterResponse, closeExchange, endAndClose, HTTP2_STREAM_WINDOW_BYTES, http2RequestHasBody, responseCompleted } from '../http/http2-compat';
import { requestHeadersForAgent, responseHeadersForViewer } from './headers';
import { hostOnlyCookies } from './host-only-cookies';
import { lingerOnRestOfBody } from '../http/lingering-close';

/**
 * Longest wait for the agent's response head: the agent answers ERR_UPSTREAM_TIMEOUT itself when the local app hangs,
 * so this only covers an agent that never answers. 5 min: Node's default requestTimeout.
 */
const RESPONSE_HEAD_TIMEOUT_MS = 300_000;

/** What the relays use (the WebSocket relay's context adds its own: ws-relay.ts). */
export interface HttpRelayContext {
  /** `http` or `https`: what viewers speak, sent as X-Forwarded-Proto. */
  forwardedProto: string;
  metrics: Metrics;
  logger: Logger;
  /** The server's budget of bytes held for viewers: the exchanges stalled the longest get 503 ERR_OVERLOADED (or are cut; a WebSocket closes with 1013) when it is spent. */
  budget: BufferBudget;
}

/** Statuses that never carry a body (RFC 9110 §6.4.1). */
const NO_BODY_STATUS = new Set([204, 304]);

/**
 * Bytes the relay lets queue on a viewer's socket before pausing the stream. Measured: Node's default 16 KiB paused on
 * every frame (30–50 MB/s on loopback); 256 KiB keeps the socket busy while bounding what a viewer that stops reading
 * holds before the buffer budget counts it (from the pause on).
 */
const VIEWER_WRITE_HIGH_WATER_BYTES = 256 * 1024;

/** Origin-form target (`/path?q`); absolute-form is reduced to it; anything else is undefined. */
function originFormTarget(url: string | undefined): string | undefined {
  if (url?.startsWith('/')) return url;
  if (!url || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

/** A request has a body when it declares one (RFC 9112 §6.3): Transfer-Encoding, or Content-Length > 0; over HTTP/2, when HEADERS did not end the stream. */
function hasBody(req: IncomingMessage): boolean {
  const http2 = http2RequestHasBody(req);
  if (http2 !== undefined) return http2;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * @param setCookie an earned access cookie and the viewer cookie, added to the app's response head.
 * @returns the stream opened for the request; undefined when none was (answered here).
 */
export function relayHttp(
  connection: Connection,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpRelayContext,
  setCookie: readonly string[] = [],
): Stream | undefined {
  const target = originFormTarget(req.url);
  if (!target) {
    sendPage(res, {
      status: 400,
      title: 'Bad request target',
      message: 'Only origin-form request targets (`/path?query`) are relayed.',
      code: 'ERR_INVALID_HEAD',
    });
    return undefined;
  }
  const withBody = hasBody(req);
  let stream: Stream;
  let fromServiceWorker = false;
  try {
    // Requests the browser client's Service Worker relays carry its cookie jar in a header (a SW cannot send Cookie) and get Set-Cookie back readable.
    const viewerHeaders = requestHeadersForAgent(req, { forwardedProto: ctx.forwardedProto });
    fromServiceWorker = isSwRelayRequest(viewerHeaders);
    const headers = applySwCookieBridge(viewerHeaders);
    stream = connection.open('http', { method: req.method ?? 'GET', target, headers }, { end: !withBody });
  } catch (err) {
    if (!(err instanceof ProtocolError)) ctx.logger.error({ err }, 'relay: opening a stream failed');
    sendPage(res, relayErrorPage(err instanceof ProtocolError ? err.code : 'ERR_INTERNAL'));
    req.resume();
    return undefined;
  }
  ctx.metrics.relayedRequests.inc({ kind: 'http' });

  // Evicted by the budget (an upload the app does not read, a download the viewer does not read): a 503 when no head
  // went out yet (the rest of the upload refused, not read), else the response is cut at once (not after a flush the
  // viewer may never take: what it holds must go now).
  const overloaded = () => {
    ctx.logger.info({ budget: ctx.budget.limit, target }, 'relay: buffer budget spent; refusing the exchange stalled the longest');
    if (!res.headersSent && !res.destroyed) {
      closeAfterResponse(res);
      sendPage(res, relayErrorPage('ERR_OVERLOADED'));
      closeExchange(res, false);
    } else if (!res.writableEnded) res.destroy();
    stream.reset('ERR_OVERLOADED', 'server buffer budget spent');
  };
  const upload = withBody ? ctx.budget.hold(overloaded) : undefined;
  const download = ctx.budget.hold(overloaded);

  if (upload) pipeRequestBody(req, stream, ctx.metrics, upload);
  else req.resume();

  // An answer before the whole upload came (the app's 413, or its 200 once it had seen enough; an error page): over
  // HTTP/1.1 the connection closes after it, so the viewer is told now, and not before the browser is done sending,
  // or a reset fails its fetch (lingering-close.ts).
  const answeringEarly = () => {
    if (!upload || req.complete) return;
    closeAfterResponse(res);
    lingerOnRestOfBody(req, res);
  };

  const headTimer = setTimeout(() => {
    stream.reset('ERR_UPSTREAM_TIMEOUT', 'no response head in time');
    answeringEarly();
    sendPage(res, relayErrorPage('ERR_UPSTREAM_TIMEOUT'));
  }, RESPONSE_HEAD_TIMEOUT_MS);

  const toViewer = ctx.metrics.relayedBytes.labels('to_viewer');
  let bodyAllowed = true;
  let wroteBody = false;
  /** The agent's Content-Length, enforced: its body must not spill into the viewer's next response on a keep-alive connection. */
  let length = new BodyLengthGuard(undefined);

  /** The agent misbehaved for this request only: its stream is reset and the viewer gets the error page. */
  const refuseHead = (code: 'ERR_PROTOCOL' | 'ERR_INVALID_HEADER', why: string) => {
    stream.reset(code, why);
    sendPage(res, relayErrorPage(code));
  };
  stream.on('response', (agentHead) => {
    clearTimeout(headTimer);
    // Cookies stay on this session's host (host-only-cookies.ts), whichever jar receives them.
    const isolated = { status: agentHead.status, headers: hostOnlyCookies(agentHead.headers, hostnameOf(req.headers.host ?? '')) };
    const head = fromServiceWorker ? bridgeSwResponse(isolated) : isolated;
    if (res.headersSent || res.destroyed) return;
    // 1xx / 101 cannot answer an HTTP stream.
    if (head.status < 200) return refuseHead('ERR_PROTOCOL', `status ${head.status} on an HTTP stream`);
    const declared = declaredBodyLength(head.headers);
    if (declared === null) return refuseHead('ERR_INVALID_HEADER', 'invalid or conflicting content-length');
    // The app answers before the whole upload came (a 413, a refusal, the agent's own 503).
    answeringEarly();
    try {
      const headers = responseHeadersForViewer(head.headers);
      for (const c of setCookie) headers.push('set-cookie', c);
      res.writeHead(head.status, headers);
    } catch (err) {
      // Node refused a field the wire allowed (it is stricter on some values).
      ctx.logger.debug({ err }, 'relay: response head refused by Node');
      return refuseHead('ERR_INVALID_HEADER', 'response head not representable');
    }
    bodyAllowed = req.method !== 'HEAD' && !NO_BODY_STATUS.has(head.status);
    if (bodyAllowed) length = new BodyLengthGuard(declared);
    // Server-sent events and long polls must see the head now; when body bytes arrived with the head (same agent message) they carry it instead.
    queueMicrotask(() => {
      if (!wroteBody && !res.writableEnded && !res.destroyed) res.flushHeaders();
    });
  });

  // Each chunk the viewer's socket takes is progress: a viewer that reads, however slowly, goes back in the budget's line; one that stopped does not.
  const onFlushed = () => download.progressed();
  stream.on('data', (chunk) => {
    if (!bodyAllowed || res.destroyed || !res.headersSent || res.writableEnded) return;
    wroteBody = true;
    const { accepted, excess } = length.take(chunk);
    toViewer.inc(accepted.length);
    if (excess) {
      ctx.logger.warn({ declared: length.declared, target }, 'relay: agent sent more body than its content-length; viewer connection closed');
      res.write(accepted);
      endAndClose(res);
      stream.reset('ERR_PROTOCOL', 'body longer than content-length');
      return;
    }
    // A chunk is a view into the agent's socket read (up to 4× its size); one that will wait in the socket's queue is
    // copied, so a viewer that does not read pins only what it was sent.
    res.write(res.writableLength > 0 ? Buffer.from(chunk) : chunk, onFlushed);
    // Node's 16 KiB default high-water mark would pause after every frame and serialize the download on 'drain' round
    // trips; keep up to VIEWER_WRITE_HIGH_WATER_BYTES queued for the viewer's socket instead. While paused, that
    // queue and what the agent may still send into the stream count against the budget.
    if (res.writableLength > VIEWER_WRITE_HIGH_WATER_BYTES && !stream.isPaused) {
      stream.pause();
      download.set(res.writableLength + stream.receiveExposure);
      res.once('drain', () => {
        download.set(0);
        stream.resume();
      });
    }
  });

  stream.on('end', () => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) sendPage(res, relayErrorPage('ERR_PROTOCOL'));
    // A body shorter than its content-length cannot end as a complete message: cut it (HTTP/1.1: the connection once
    // what was written is flushed; HTTP/2: this stream only), so the viewer sees it fail rather than wait for bytes
    // that never come.
    else if (length.short) closeExchange(res, true);
    else {
      res.end();
      // The app answered before the whole upload came: the rest is not relayed (HTTP/2: RST_STREAM NO_ERROR;
      // HTTP/1.1: the connection closes once the response is flushed, after a bounded linger on the rest of the
      // body), so the upload stops holding the server's buffers and time.
      if (upload && !req.complete) {
        upload.release();
        closeExchange(res, false);
      }
    }
  });

  stream.on('reset', (error) => {
    clearTimeout(headTimer);
    // A reset after the response completed changes nothing for the viewer.
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) return void res.destroy();
    answeringEarly();
    sendPage(res, relayErrorPage(error.code));
  });

  res.on('close', () => {
    clearTimeout(headTimer);
    upload?.release();
    download.release();
    if (!responseCompleted(res)) {
      // The viewer went away (abort, closed tab): cancel the local request.
      stream.reset('ERR_CANCEL', 'viewer closed the request');
    } else if (!stream.localEnded) {
      // The app answered before reading the whole upload: stop sending it.
      stream.reset('ERR_CANCEL', 'response complete before the request body');
    }
  });
  return stream;
}

/**
 * Streams the viewer's body into the stream: a full stream pauses the request; 'drain' resumes it. While paused, what
 * the upload holds counts against `hold`: the stream's queue, the request's buffer and, over HTTP/2, the stream's
 * receive window (Node keeps receiving up to it; HTTP/1.1 leaves the rest in the kernel's socket buffer).
 */
function pipeRequestBody(req: IncomingMessage, stream: Stream, metrics: Metrics, hold: BufferHold): void {
  const toAgent = metrics.relayedBytes.labels('to_agent');
  const window = http2RequestHasBody(req) === undefined ? 0 : HTTP2_STREAM_WINDOW_BYTES;
  const onData = (chunk: Buffer) => {
    if (stream.closed) return;
    toAgent.inc(chunk.length);
    if (!stream.write(chunk)) {
      req.pause();
      hold.set(stream.pendingBytes + req.readableLength + window);
      stream.once('drain', () => {
        hold.set(0);
        req.resume();
      });
    }
  };
  req.on('data', onData);
  req.on('end', () => stream.end());
  stream.once('close', () => {
    // Nothing reads the rest of the body any more: let Node discard it.
    req.off('data', onData);
    req.resume();
  });
}
