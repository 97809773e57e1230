/**
 * One WebSocket stream → one `ws` client connection to the local app,
 * bridged message by message, close codes and backpressure both ways. A
 * failed local handshake gets a non-101 head then WS_CLOSE (no HTTP body).
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import {
  isSendableCloseCode,
  messageTooBigReason,
  messageTooBigReasonFrom,
  WS_CLOSE_MESSAGE_TOO_BIG,
  WS_MAX_CLOSE_REASON_BYTES,
  type HeaderList,
  type Stream,
} from '@wingman/protocol';
import { VIEWER_WS_CLOSE_REPLY_TIMEOUT_MS, WS_HIGH_WATER_BYTES } from './constants';
import { maskingOptions } from '../ws-masking';
import { applyHeaderEdits } from './header-rules';
import { forwardedRequest, fromAppResponse, type TransportName } from './headers';
import { formatHostPort, targetTlsOptions } from './target';
import { isCertificateError } from './error-page';
import { headProblem, withTransport } from './respond';
import { createExchangeTap } from './capture';
import { toOutgoingHeaders, writtenHead } from './handshake-head';
import { logOnce, type ForwardContext } from './context';
import type { ExchangeGuard } from './exchange-guard';

/** ws's error code for a message over maxPayload (it has already sent 1009). */
const WS_ERR_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/** ws's own bare 1009 gets a reason the app can read. */
class LocalWebSocket extends WebSocket {
  tooBigReason = 'message too big';
  override close(code?: number, data?: string | Buffer): void {
    super.close(code, code === WS_CLOSE_MESSAGE_TOO_BIG && data === undefined ? this.tooBigReason : data);
  }
}

export function forwardWebSocket(stream: Stream, transport: TransportName, ctx: ForwardContext, guard: ExchangeGuard, viewerId?: string): void {
  const { head } = stream;
  const tap = createExchangeTap({ ...head, method: 'GET' }, transport, viewerId, ctx.capture, { websocket: true });
  const started = performance.now();
  const hostPort = formatHostPort(ctx.target);
  const wsScheme = ctx.target.scheme === 'https' ? 'wss' : 'ws';
  const log = logOnce(ctx, { method: 'GET', target: head.target, transport, started });
  let closeTimer: NodeJS.Timeout | undefined;
  /** After the local close went to the viewer. */
  const awaitViewerClose = () => {
    closeTimer = setTimeout(
      guard.wrap(() => stream.reset('ERR_CANCEL', 'no WebSocket close from the viewer')),
      VIEWER_WS_CLOSE_REPLY_TIMEOUT_MS,
    );
  };
  const refuse = (status: number, headers: HeaderList, error: string | undefined, reason: string) => {
    stream.resume();
    if (stream.responded || stream.closed) return;
    const sent = withTransport(
      headers.filter(([n]) => n !== 'content-length'),
      transport,
    );
    stream.respond({ status, headers: sent });
    stream.closeWs(1011, reason);
    log(status, error);
    tap.responseHead(status, sent);
    tap.finish(error);
    awaitViewerClose();
  };
  // Messages wait (bounded by the stream window) until the local socket opens.
  stream.pause();

  // The authority is always the configured target, never the head's: no open proxy.
  if (!URL.canParse(`${wsScheme}://${hostPort}${head.target}`)) return refuse(400, [], 'ERR_INVALID_HEAD', 'invalid request target');
  const url = new URL(`${wsScheme}://${hostPort}${head.target}`);
  if (url.host !== new URL(`${wsScheme}://${hostPort}/`).host) return refuse(400, [], 'ERR_INVALID_HEAD', 'request target leaves the configured host');

  const offeredLines = head.headers.filter(([n]) => n === 'sec-websocket-protocol').map(([, v]) => v);
  const protocols = offeredLines
    .flatMap((v) => v.split(','))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const forwarded = forwardedRequest(head.headers, { target: ctx.target, hostHeader: ctx.hostHeader, transport, websocket: true });
  const sentHeaders = applyHeaderEdits(forwarded.headers, ctx.headerRules?.request);
  const headers = toOutgoingHeaders(sentHeaders);

  const tooBigReason = messageTooBigReason(ctx.wsMaxMessageBytes);
  let ws: LocalWebSocket;
  try {
    ws = new LocalWebSocket(url, protocols, {
      headers,
      handshakeTimeout: ctx.timeoutMs,
      maxPayload: ctx.wsMaxMessageBytes,
      perMessageDeflate: false,
      followRedirects: false,
      ...targetTlsOptions(ctx.target),
      // ws writes the offer as `a,b`; the app sees the browser's own line (`a, b`).
      finishRequest: (req) => {
        if (protocols.length > 0) req.setHeader('Sec-WebSocket-Protocol', offeredLines.join(', '));
        tap.requestHead(writtenHead(req));
        req.end();
      },
      ...maskingOptions(url),
    });
  } catch (err) {
    // Invalid subprotocols (not tokens, duplicates).
    return refuse(400, [], 'ERR_INVALID_HEAD', (err as Error).message);
  }
  ws.tooBigReason = tooBigReason;

  let phase: 'connecting' | 'open' | 'closed' = 'connecting';

  ws.on(
    'open',
    guard.wrap(() => {
      if (stream.closed) return ws.terminate();
      phase = 'open';
      const responseHeaders = withTransport(ws.protocol ? [['sec-websocket-protocol', ws.protocol]] : [], transport);
      stream.respond({ status: 101, headers: responseHeaders });
      log(101);
      tap.responseHead(101, responseHeaders);
      tap.finish();
      stream.resume();
    }),
  );

  ws.on(
    'unexpected-response',
    guard.wrap((req, res: IncomingMessage) => {
      // The app refused the upgrade (e.g. 403 from an origin check): its status and headers go on.
      res.on('error', () => undefined);
      req.destroy();
      if (phase !== 'connecting') return;
      phase = 'closed';
      const status = res.statusCode ?? 502;
      const headers = fromAppResponse(res.rawHeaders, ctx.appAddress, forwarded.addresses);
      const problem = headProblem(status, withTransport(headers, transport));
      if (problem) return refuse(502, [], 'ERR_UPSTREAM_ERROR', problem);
      refuse(status, headers, undefined, `local app answered ${status}`);
    }),
  );

  ws.on(
    'error',
    guard.wrap((err: NodeJS.ErrnoException) => {
      // The app sent a message over the cap: ws closed with 1009; so does the viewer's leg.
      if (err.code === WS_ERR_TOO_BIG && phase === 'open' && !stream.closed && !stream.localEnded) stream.closeWs(WS_CLOSE_MESSAGE_TOO_BIG, tooBigReason);
      // After the handshake 'close' (1006) follows.
      if (phase !== 'connecting') return;
      phase = 'closed';
      if (/handshake has timed out/i.test(err.message)) {
        return refuse(504, [], 'ERR_UPSTREAM_TIMEOUT', `no WebSocket handshake from ${hostPort} within ${ctx.timeoutMs} ms`);
      }
      const detail = `${err.code ?? 'error'}: ${err.message}`;
      const reason = isCertificateError(err.code) ? `the certificate of ${hostPort} is not trusted (${detail})` : `nothing answered on ${hostPort} (${detail})`;
      refuse(502, [], err.code === 'ECONNREFUSED' ? 'ERR_UPSTREAM_UNREACHABLE' : 'ERR_UPSTREAM_ERROR', reason.slice(0, 120));
    }),
  );

  ws.on(
    'close',
    guard.wrap((code: number, reason: Buffer) => {
      if (phase !== 'open') return;
      phase = 'closed';
      if (stream.closed) return;
      if (!stream.localEnded) stream.closeWs(code, reason.toString('utf8'));
      awaitViewerClose();
    }),
  );

  appToViewer(ws, stream, guard);
  viewerToApp(stream, ws);
  stream.on('wsClose', (code, reason) => {
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      stream.reset('ERR_CANCEL', 'viewer closed before the local handshake');
      return;
    }
    ws.close(sendableCloseCode(code), truncateReason(reason));
  });
  stream.on('reset', (error) => {
    phase = 'closed';
    // A viewer's message over a cap (the server's or this reassembly's): the app gets 1009.
    if (error.code === 'ERR_MESSAGE_TOO_LARGE' && ws.readyState === WebSocket.OPEN) ws.close(WS_CLOSE_MESSAGE_TOO_BIG, messageTooBigReasonFrom(error.message));
    else ws.terminate();
    tap.finish(error.code);
  });
  stream.on('close', () => {
    clearTimeout(closeTimer);
    // Closed while the local socket is still up: this side reset it (the guard, after a throw).
    if (phase === 'closed') return;
    phase = 'closed';
    ws.terminate();
    log(0, 'ERR_INTERNAL');
    tap.finish('ERR_INTERNAL');
  });
}

/** The app's socket paused while the stream's window is full. */
function appToViewer(ws: LocalWebSocket, stream: Stream, guard: ExchangeGuard): void {
  let waitingDrain = false;
  ws.on(
    'message',
    guard.wrap((data: Buffer, isBinary: boolean) => {
      if (stream.closed || stream.localEnded) return;
      // Within what the protocol carries: maxPayload is ctx.wsMaxMessageBytes, at most MAX_WS_MESSAGE_BYTES (settings.ts), and ws checked a text message's UTF-8.
      const ok = stream.sendMessage(isBinary ? data : data.toString('utf8'));
      if (!ok && !waitingDrain) {
        waitingDrain = true;
        ws.pause();
        stream.once('drain', () => {
          waitingDrain = false;
          ws.resume();
        });
      }
    }),
  );
}

/** The stream paused while the app's socket holds too much. */
function viewerToApp(stream: Stream, ws: LocalWebSocket): void {
  const onSent = () => {
    if (stream.isPaused && ws.bufferedAmount < WS_HIGH_WATER_BYTES / 2) stream.resume();
  };
  stream.on('message', (data, text) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A text message goes as a text frame of the same UTF-8 bytes.
    ws.send(data, { binary: !text }, onSent);
    if (ws.bufferedAmount > WS_HIGH_WATER_BYTES) stream.pause();
  });
}

/** RFC 6455 §7.4: 1005 and 1006 only describe what was received, 1004 and 1015 are reserved; anything else becomes 1000. */
export function sendableCloseCode(code: number): number {
  return isSendableCloseCode(code) ? code : 1000;
}

/** To 123 bytes on a UTF-8 character boundary. */
function truncateReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r, 'utf8') > WS_MAX_CLOSE_REASON_BYTES) r = r.slice(0, -1);
  return r;
}
