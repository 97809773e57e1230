/**
 * One HTTP stream → one request to the local app through the forwarder's
 * keep-alive undici Pool; every stream gets an answer (the app's response, a
 * 400/502/504 page, or a reset once a head has gone out). Not http-proxy: the
 * request arrives as frames, there is no req/res pair to hand it. undici's
 * dispatch rather than `http.request`: head and chunks as callbacks, about
 * 0.6× the client CPU per small request as measured here.
 */
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ALREADY_RECEIVED_ERROR, ProtocolError, type BufferHold, type ErrorCode, type HeaderList, type Stream } from '@wingman/protocol';
import { REQUEST_DRAIN_TIMEOUT_MS } from './constants';
import {
  alreadyReceivedPage,
  badRequestPage,
  badResponsePage,
  isCertificateError,
  overloadedPage,
  timeoutPage,
  unreachablePage,
  untrustedCertificatePage,
  type ErrorPage,
} from './error-page';
import { applyHeaderEdits } from './header-rules';
import { checkFraming, forwardedRequest, fromAppResponse, type TransportName } from './headers';
import { formatHostPort } from './target';
import type { ExchangeAddresses } from './address-map';
import { withAppPort } from './app-port';
import { createRequestBody, REQUEST_BODY_HIGH_WATER_BYTES, REQUEST_BODY_READ_AHEAD_BYTES, type RequestBody } from './request-body';
import { routeOf, sendPage, withTransport } from './respond';
import { logOnce, type ForwardContext } from './context';
import { createExchangeTap } from './capture';
import { withAgentTime } from './agent-time';
import type { ExchangeGuard } from './exchange-guard';
import { HTTP_CLIENT_FAULT } from './upstream-socket';
import { claimExchange, type ClaimOutcome } from './exchange-record';
import { createStartGate } from './start-gate';

/** Framed or refused by the HTTP client itself: chunked framing, and `Expect: 100-continue` (already answered upstream, or by nobody over P2P). */
const CLIENT_FRAMED = new Set(['transfer-encoding', 'expect']);

/** Methods that carry a body by definition; without one they get `content-length: 0`, as browsers send. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const NO_ADDRESSES: ExchangeAddresses = Object.freeze({ sessionOrigin: undefined, viewerOrigin: undefined });

export function forwardHttp(stream: Stream, transport: TransportName, ctx: ForwardContext, guard: ExchangeGuard, viewerId?: string): void {
  const { head } = stream;
  const tap = createExchangeTap(head, transport, viewerId, ctx.capture);
  const route = routeOf(head.headers, transport);
  const started = performance.now();
  let state: 'waiting' | 'responding' | 'done' = 'waiting';
  let headTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  /** Once the client took the request; `cancelled` stops it as soon as it does. */
  let controller: Dispatcher.DispatchController | undefined;
  let cancelled = false;
  let bodySink: PassThrough | undefined;
  /** The viewer's addresses, for response fields that name the app (address-map.ts). */
  let addresses = NO_ADDRESSES;

  const log = logOnce(ctx, { method: head.method, target: head.target, transport, started });

  const abortUpstream = () => {
    clearTimeout(headTimer);
    if (cancelled) return;
    cancelled = true;
    bodySink?.destroy();
    if (controller && !controller.aborted) controller.abort(new Error('the viewer side ended the request'));
  };

  /** Reads and drops an unfinished request body for a while, then resets. */
  const done = () => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(headTimer);
    tap.finish();
    if (body.complete || stream.closed) return;
    abortUpstream();
    body.discard();
    drainTimer = setTimeout(
      guard.wrap(() => stream.reset('ERR_CANCEL', 'response complete')),
      REQUEST_DRAIN_TIMEOUT_MS,
    );
  };

  const ended = (code: string) => {
    log(0, code);
    tap.finish(code);
    state = 'done';
    abortUpstream();
  };

  const fail = (page: ErrorPage, error: string) => {
    if (state === 'done') return;
    abortUpstream();
    if (sendPage(stream, page, transport, route)) {
      log(page.status, error);
      tap.responseHead(page.status, withTransport(page.headers, transport, route));
      tap.responseChunk(page.body);
    } else {
      stream.reset('ERR_UPSTREAM_ERROR', error);
    }
    tap.finish(error);
    done();
  };

  // Bytes held while the exchange does not move count against ctx.budget; evicted: a 503 before the head, a reset after it.
  const overloaded = () => {
    if (state === 'waiting') fail(overloadedPage(), 'ERR_OVERLOADED');
    else brokeOff('the agent buffer budget is spent and this exchange had stalled the longest', 'ERR_OVERLOADED');
  };
  const downloadHold = ctx.budget.hold(overloaded);
  const uploadHold = ctx.budget.hold(overloaded);
  const toViewer = responseWriter(stream, downloadHold, guard);
  // A peer that takes the queued body, however slowly, is not stalled: back of the budget's line.
  stream.on('progress', () => downloadHold.progressed());
  stream.on('close', () => {
    clearTimeout(drainTimer);
    downloadHold.release();
    uploadHold.release();
    // Closed before its answer was complete: this side reset it (the guard, after a throw).
    if (state !== 'done') ended('ERR_INTERNAL');
  });

  const framing = checkFraming(head.headers);
  const gate = createStartGate(framing.ok ? framing.contentLength : undefined, start, () => state === 'waiting' && !stream.closed);
  // Before the body's own listener, so the tap sees every chunk the app does. While an upload
  // arrives (minutes, on a slow path), the wait for the head counts from the latest chunk.
  stream.on('data', (chunk) => {
    tap.requestChunk(chunk);
    if (state === 'waiting') headTimer?.refresh();
  });
  const body = createRequestBody(stream, {
    contentLength: framing.ok ? framing.contentLength : undefined,
    onFramingKnown: (hasBody) => gate.framingKnown(hasBody),
    onViolation: (reason) => fail(badRequestPage(reason), 'ERR_INVALID_HEAD'),
    hold: uploadHold,
    guard,
  });

  stream.on('reset', (err) => ended(err.code));

  if (!framing.ok) return fail(badRequestPage(framing.reason), 'ERR_INVALID_HEAD');
  // A request the Service Worker sent twice (P2P, then the relay) reaches the app only if its claim wins.
  const claim = claimExchange(stream, transport, viewerId, ctx.exchanges);
  // Known at once in the agent; from the P2P host, when the agent answers.
  if (typeof claim === 'string') guard.wrap(settle)(claim);
  else void claim.then(guard.wrap(settle));

  function settle(outcome: ClaimOutcome): void {
    // The other copy reached the app: answered once its body is in.
    if (outcome === 'refuse') headTimer = afterBody(stream, body, guard, () => fail(alreadyReceivedPage(), ALREADY_RECEIVED_ERROR));
    else if (outcome === 'unanswered') brokeOff('the agent did not answer whether the app had already received this request', 'ERR_INTERNAL');
    else gate.claimWon();
  }

  function start(hasBody: boolean): void {
    const forwarded = forwardedRequest(head.headers, { target: ctx.target, hostHeader: ctx.hostHeader, transport });
    const headers: HeaderList = [];
    let lengths: HeaderList | undefined;
    for (const field of applyHeaderEdits(forwarded.headers, ctx.headerRules?.request)) {
      // Wire order: the HTTP client writes Content-Length after the other fields.
      if (field[0] === 'content-length') (lengths ??= []).push(field);
      else if (!CLIENT_FRAMED.has(field[0])) headers.push(field);
    }
    if (lengths) headers.push(...lengths);
    addresses = forwarded.addresses;
    // Towards the app the body goes chunked (the client frames it) or is absent.
    if (framing.ok && framing.contentLength === undefined && !hasBody && BODY_METHODS.has(head.method)) headers.push(['content-length', '0']);
    if (hasBody) bodySink = requestBodySink();
    tap.requestHead(headers);
    headTimer = setTimeout(
      guard.wrap(() => fail(timeoutPage(formatHostPort(ctx.target), ctx.timeoutMs), 'ERR_UPSTREAM_TIMEOUT')),
      ctx.timeoutMs,
    );
    // Raw list, in this order, Host included (a loop: Array.prototype.flat() took ~3.5 µs here, this 0.2). A throw in a callback fails this exchange only.
    const raw: string[] = [];
    for (const [name, value] of headers) raw.push(name, value);
    ctx.upstream.dispatch(
      { origin: ctx.origin, path: head.target, method: head.method, headers: raw, body: bodySink ?? null },
      {
        onRequestStart: guard.wrap((c: Dispatcher.DispatchController) => {
          controller = c;
          if (cancelled) c.abort(new Error('the viewer side ended the request'));
        }),
        onResponseStart: guard.wrap((c: Dispatcher.DispatchController, status: number) => onResponse(c, status)),
        onResponseData: guard.wrap((c: Dispatcher.DispatchController, chunk: Buffer) => {
          if (state !== 'responding' || stream.closed) return;
          if (ctx.capture) tap.responseChunk(chunk);
          toViewer(c, chunk);
        }),
        onResponseEnd: guard.wrap(() => {
          if (state !== 'responding') return;
          stream.end();
          done();
        }),
        onResponseError: guard.wrap((_c: Dispatcher.DispatchController, err: Error) => onUpstreamError(err)),
      },
    );
    if (bodySink) body.pipeTo(bodySink);
  }

  function onUpstreamError(err: Error & { code?: string }): void {
    if (cancelled && state !== 'responding') return;
    // The agent's own HTTP client failed (upstream-socket.ts), not the app.
    if (err.code === HTTP_CLIENT_FAULT) {
      if (state === 'responding') return brokeOff(err.message, 'ERR_INTERNAL');
      return fail(badResponsePage(formatHostPort(ctx.target), err.message), 'ERR_INTERNAL');
    }
    if (state === 'responding') return brokeOff(`the local app's response broke off: ${err.message}`);
    if (state !== 'waiting') return;
    const failure = failureBeforeHead(err, formatHostPort(ctx.target), ctx.origin);
    fail(failure.page, failure.code);
  }

  /** The head is out: the stream can only be reset. */
  function brokeOff(reason: string, code: ErrorCode = 'ERR_UPSTREAM_ERROR'): void {
    if (state === 'done') return;
    tap.finish(code);
    stream.reset(code, reason);
    state = 'done';
    abortUpstream();
  }

  function onResponse(c: Dispatcher.DispatchController, status: number): void {
    // Informational (`103 Early Hints`) is not the answer, and a page cannot see one. (101: ws-forward.ts.)
    if (status < 200) return;
    if (state !== 'waiting' || stream.closed) return void c.abort(new Error('the viewer side ended the request'));
    clearTimeout(headTimer);
    // Hop-by-hop out, the app's addresses and port made the session's (headers.ts, app-port.ts), header rules applied.
    const fields = applyHeaderEdits(fromAppResponse((c.rawHeaders ?? []) as Array<Buffer | string>, ctx.appAddress, addresses), ctx.headerRules?.response);
    const headers = withTransport(withAppPort(fields, ctx.target.port, ctx.appRoutes), transport, route);
    // RFC 9110 §6.4.1.
    const noBody = head.method === 'HEAD' || status === 204 || status === 304;
    const unsent = sendHead(stream, status, withAgentTime(headers, head.headers, transport, started), noBody);
    if (unsent !== undefined) return fail(badResponsePage(formatHostPort(ctx.target), unsent), 'ERR_UPSTREAM_ERROR');
    state = 'responding';
    log(status);
    tap.responseHead(status, headers);
    if (noBody) done();
  }
}

/**
 * Writes a chunk of the app's body to the viewer's stream; while the stream is
 * full the app is paused (`c`), and what waits counts against the process's
 * buffer budget (`hold`).
 */
function responseWriter(stream: Stream, hold: BufferHold, guard: ExchangeGuard): (c: Dispatcher.DispatchController, chunk: Buffer) => void {
  return (c, chunk) => {
    if (stream.write(chunk)) return;
    c.pause();
    hold.set(stream.pendingBytes);
    stream.once(
      'drain',
      guard.wrap(() => {
        hold.set(0);
        c.resume();
      }),
    );
  };
}

/** Runs `answer` once the request body is in (a browser may fail a fetch answered mid-upload), or after REQUEST_DRAIN_TIMEOUT_MS. */
function afterBody(stream: Stream, body: RequestBody, guard: ExchangeGuard, then: () => void): NodeJS.Timeout | undefined {
  const answer = guard.wrap(then);
  body.discard();
  if (body.complete) return void answer();
  stream.once('end', answer);
  return setTimeout(answer, REQUEST_DRAIN_TIMEOUT_MS);
}

/** A failure of the local request ends it (onResponseError); the sink's own error says nothing more. */
function requestBodySink(): PassThrough {
  const sink = new PassThrough({ writableHighWaterMark: REQUEST_BODY_HIGH_WATER_BYTES, readableHighWaterMark: REQUEST_BODY_READ_AHEAD_BYTES });
  sink.on('error', () => undefined);
  return sink;
}

/** Undefined once sent, else why not: a head the wire cannot carry throws first and leaves the stream free for a 502. */
function sendHead(stream: Stream, status: number, headers: HeaderList, end: boolean): string | undefined {
  try {
    stream.respond({ status, headers }, { end });
    return undefined;
  } catch (err) {
    if (!(err instanceof ProtocolError)) process.emitWarning(`wingman forwarder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return err instanceof ProtocolError ? err.message : 'internal error';
  }
}

function failureBeforeHead(err: Error & { code?: string }, hostPort: string, origin: string): { page: ErrorPage; code: string } {
  if (err.code === 'UND_ERR_INVALID_ARG') return { page: badRequestPage(err.message), code: 'ERR_INVALID_HEAD' };
  if (isCertificateError(err.code)) return { page: untrustedCertificatePage(origin, `${err.code}: ${err.message}`), code: 'ERR_UPSTREAM_ERROR' };
  const closedEarly = err.code === 'ECONNRESET' || err.code === 'UND_ERR_SOCKET';
  const detail = closedEarly ? 'the app closed the connection without answering' : `${err.code ?? 'error'}: ${err.message}`;
  return { page: unreachablePage(hostPort, detail), code: err.code === 'ECONNREFUSED' ? 'ERR_UPSTREAM_UNREACHABLE' : 'ERR_UPSTREAM_ERROR' };
}
