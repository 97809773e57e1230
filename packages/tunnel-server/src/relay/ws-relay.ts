/**
 * Relays a viewer's WebSocket over the session's agent connection as a 'ws' stream. The viewer's upgrade is held
 * until the agent's local app answered: 101 completes it (with the subprotocol the app chose), anything else goes
 * back to the viewer as a plain HTTP response. Then messages flow both ways with backpressure, and closes carry their
 * codes. A shim's socket may carry a one-time ticket (ws-tickets.ts) whose cookies join the upgrade's Cookie.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  ERROR_HEADER,
  isSendableCloseCode,
  messageTooBigReason,
  messageTooBigReasonFrom,
  ProtocolError,
  TRANSPORT_HEADER,
  WS_CLOSE_MESSAGE_TOO_BIG,
  WS_MAX_CLOSE_REASON_BYTES,
  WS_TICKET_PARAM,
  type Connection,
  type Stream,
} from '@wingman/protocol';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { applyWsTicketCookies } from '../browser/cookie-bridge';
import { hostnameOf } from '../http/host-route';
import { writeRawResponse, writeRawText } from '../http/raw-response';
import { RETRY_AFTER_S } from '../http/pages';
import { isConnectStreamSocket } from '../http/h2-websocket';
import { HTTP2_STREAM_WINDOW_BYTES } from '../http/http2-compat';
import { rawDataToBuffer, WS_CLOSE_TRY_AGAIN_LATER } from '../http/ws-data';
import { statusForCode } from './error-page';
import { hostOnlyCookies } from './host-only-cookies';
import { requestHeadersForAgent, responseHeadersForViewer, WEBSOCKET_HOP_FIELDS } from './headers';
import { takeWsTicket, type WsTicketRefusal, type WsTicketStore } from './ws-tickets';
import { checkWsReceiverFields, wsHeldBytes } from './ws-held-bytes';
import type { HttpRelayContext } from './http-relay';
import { CUT_MESSAGE, CUT_REASON, ERR_VIEWER_STREAMS } from './viewer-streams';

/** How long the agent has to answer a WebSocket open (the local app's 101 or refusal). */
const AGENT_WS_OPEN_TIMEOUT_MS = 10_000;
// The viewer's send buffer above which the stream stops delivering the agent's messages, and below which it resumes.
const VIEWER_HIGH_WATER_BYTES = 1024 * 1024;
const VIEWER_LOW_WATER_BYTES = 256 * 1024;

/** Fields of the agent's 101 that ws writes itself or that belong to the agent's hop. */
const UPGRADE_RESPONSE_DROP = new Set([...WEBSOCKET_HOP_FIELDS, 'sec-websocket-protocol', 'content-length']);

interface WsRelayContext extends HttpRelayContext {
  /** A relayed WebSocket with no message either way for this long is closed (1001); 0: never. */
  idleTimeoutMs: number;
  /** One-time tickets minted at WS_TICKET_PATH (the Service Worker's cookies for a shim's relayed WebSocket). */
  tickets: WsTicketStore;
  /**
   * Largest message a viewer may send (ws's maxPayload: refused from its frame header, before its payload is read,
   * with 1009). The agent's direction is capped by the agent connection (agents/agent-link.ts).
   */
  maxMessageBytes: number;
}

/** Stable code of a refused WebSocket ticket (answer 403, or 400 for several tickets). */
const ERR_WS_TICKET = 'ERR_WS_TICKET';
const WS_BUDGET_REASON = 'server buffer budget spent (ERR_OVERLOADED)';
/** Close reason of a relayed WebSocket closed for idleness (code 1001, going away). */
const WS_IDLE_REASON = 'idle timeout';

export type WsRelay = ReturnType<typeof createWsRelay>;

/** Why a ticket was refused, as the viewer reads it. */
const TICKET_REFUSALS: Record<WsTicketRefusal, string> = { unknown: 'unknown or already used', expired: 'expired', 'other-session': 'for another session' };
const ticketRefusalHeaders: Array<[string, string]> = [
  [TRANSPORT_HEADER, 'relay'],
  [ERROR_HEADER, ERR_WS_TICKET],
];

/** True for a well-formed RFC 6455 opening handshake (checked before bothering the agent). */
function isWebSocketHandshake(req: IncomingMessage): boolean {
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    /^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '') &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

/** ws's error code for a message over maxPayload (it has already sent close 1009). */
const WS_ERR_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * Counts what `ws` holds of an unfinished message against the budget after every read and whenever it pauses or
 * resumes; evicted, it is closed with 1013 and its socket cut at once, freeing what it held. Released when it closes.
 * A paused WebSocket on an HTTP/2 stream (RFC 8441) also holds what the viewer may still send within the stream's
 * receive window: Node keeps receiving up to it (an HTTP/1.1 socket leaves it in the kernel). Returns the
 * measurement, for the pause and resume sites.
 */
function budgetHeldBytes(ctx: WsRelayContext, ws: WebSocket, socket: Duplex): () => void {
  const window = isConnectStreamSocket(socket) ? HTTP2_STREAM_WINDOW_BYTES : 0;
  const hold = ctx.budget.hold(() => {
    ctx.logger.info({ budget: ctx.budget.limit }, 'relay: buffer budget spent; closing the viewer WebSocket stalled the longest (1013)');
    ws.close(WS_CLOSE_TRY_AGAIN_LATER, WS_BUDGET_REASON);
    ws.terminate();
  });
  const measure = () => hold.set(wsHeldBytes(ws) + (ws.isPaused ? window : 0));
  // Registered after ws's own 'data' listener: ws has parsed the chunk when this runs.
  socket.on('data', measure);
  measure();
  ws.once('close', () => {
    socket.off('data', measure);
    hold.release();
  });
  return measure;
}

/**
 * The request's target without its ticket, and the cookies the ticket brings; undefined once a refusal was written to
 * the socket (more than one ticket, or one that cannot be redeemed here).
 */
function redeemTicket(
  ctx: WsRelayContext,
  req: IncomingMessage,
  socket: Duplex,
): { taken: ReturnType<typeof takeWsTicket>; ticketCookie: string | undefined } | undefined {
  const taken = takeWsTicket(req.url ?? '/', WS_TICKET_PARAM);
  if (taken.tickets.length === 0) return { taken, ticketCookie: undefined };
  if (taken.tickets.length > 1)
    return void writeRawText(socket, 400, `Wingman refused this WebSocket: more than one ${WS_TICKET_PARAM} (${ERR_WS_TICKET})`, ticketRefusalHeaders);
  const host = hostnameOf(req.headers.host ?? '');
  const redeemed = ctx.tickets.redeem(taken.tickets[0]!, host);
  if (redeemed.ok) return { taken, ticketCookie: redeemed.grant.cookie };
  ctx.logger[redeemed.reason === 'other-session' ? 'warn' : 'info']({ host, reason: redeemed.reason }, 'relay: WebSocket ticket refused');
  writeRawText(socket, 403, `Wingman refused this WebSocket: its ticket is ${TICKET_REFUSALS[redeemed.reason]} (${ERR_WS_TICKET})`, ticketRefusalHeaders);
  return undefined;
}

/** Per pending upgrade: the subprotocol and extra headers from the agent's 101. */
type PendingUpgrades = WeakMap<IncomingMessage, { protocol: string | undefined; headers: string[] }>;

/** The server viewer WebSockets are completed by: the subprotocol and headers of the app's 101, the message cap. */
function viewerSocketServer(ctx: WsRelayContext, pending: PendingUpgrades): WebSocketServer {
  const tooBigReason = messageTooBigReason(ctx.maxMessageBytes);
  /** ws closes an over-cap message's socket with a bare 1009; the viewer should read why. */
  class ViewerWebSocket extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      super.close(code, code === WS_CLOSE_MESSAGE_TOO_BIG && data === undefined ? tooBigReason : data);
    }
  }
  const wss = new WebSocketServer({
    noServer: true,
    WebSocket: ViewerWebSocket,
    maxPayload: ctx.maxMessageBytes,
    // Compression would cost CPU per message on the server; browsers cope without.
    perMessageDeflate: false,
    handleProtocols: (offered, req) => {
      const chosen = pending.get(req)?.protocol;
      return chosen !== undefined && offered.has(chosen) ? chosen : false;
    },
  });
  wss.on('headers', (headers, req) => {
    const extra = pending.get(req)?.headers ?? [];
    for (let i = 0; i + 1 < extra.length; i += 2) headers.push(`${extra[i]}: ${extra[i + 1]}`);
  });
  return wss;
}

export function createWsRelay(ctx: WsRelayContext) {
  checkWsReceiverFields();
  const pending: PendingUpgrades = new WeakMap();
  const wss = viewerSocketServer(ctx, pending);
  const tooBigReason = messageTooBigReason(ctx.maxMessageBytes);
  /** How each relayed WebSocket ends when its stream is cut for another viewer (preempt()). */
  const preempts = new WeakMap<Stream, () => void>();
  const viewers = new Set<WebSocket>();

  function bridge(ws: WebSocket, stream: Stream, socket: Duplex): void {
    viewers.add(ws);
    preempts.set(stream, () => ws.close(WS_CLOSE_TRY_AGAIN_LATER, CUT_REASON));
    const measureHeld = budgetHeldBytes(ctx, ws, socket);
    const toAgent = ctx.metrics.relayedBytes.labels('to_agent');
    const toViewer = ctx.metrics.relayedBytes.labels('to_viewer');
    const resumeWhenDrained = () => {
      if (stream.isPaused && ws.bufferedAmount < VIEWER_LOW_WATER_BYTES) stream.resume();
    };
    // Idle: no message either way for idleTimeoutMs. Both ends hear a 1001 close (the app through the stream when the viewer's close completes).
    const idle =
      ctx.idleTimeoutMs > 0
        ? setTimeout(() => {
            ctx.logger.debug({ idleTimeoutMs: ctx.idleTimeoutMs }, 'relay: closing an idle viewer WebSocket');
            ws.close(1001, WS_IDLE_REASON);
          }, ctx.idleTimeoutMs)
        : undefined;
    idle?.unref();
    const active = () => idle?.refresh();

    /** The viewer sent a message over the cap: ws closed it with 1009; the agent's leg closes with 1009 too. */
    let tooBig = false;

    ws.on('message', (data: RawData, isBinary: boolean) => {
      active();
      if (stream.closed || stream.localEnded) return;
      const bytes = rawDataToBuffer(data);
      toAgent.inc(bytes.length);
      // maxPayload (≤ MAX_WS_MESSAGE_BYTES) keeps sendMessage() within its limit.
      const more = stream.sendMessage(isBinary ? bytes : bytes.toString('utf8'));
      if (!more && !stream.closed && !ws.isPaused) {
        ws.pause();
        measureHeld();
        stream.once('drain', () => {
          ws.resume();
          measureHeld();
        });
      }
    });
    stream.on('message', (data, text) => {
      active();
      if (ws.readyState !== ws.OPEN) return;
      toViewer.inc(data.length);
      ws.send(data, { binary: !text }, resumeWhenDrained);
      if (ws.bufferedAmount > VIEWER_HIGH_WATER_BYTES) stream.pause();
    });
    stream.on('wsClose', (code, reason) => {
      if (ws.readyState !== ws.OPEN) return;
      if (isSendableCloseCode(code) && Buffer.byteLength(reason) <= WS_MAX_CLOSE_REASON_BYTES) ws.close(code, reason);
      else ws.close();
    });
    stream.on('reset', (error) => {
      // A message over a cap on the agent's side (or this side's reassembly of one from the agent): the viewer gets 1009 as from the app itself.
      if (error.code === 'ERR_MESSAGE_TOO_LARGE' && ws.readyState === ws.OPEN) ws.close(WS_CLOSE_MESSAGE_TOO_BIG, messageTooBigReasonFrom(error.message));
      else ws.terminate();
    });
    ws.on('close', (code, reason) => {
      clearTimeout(idle);
      viewers.delete(ws);
      if (tooBig) return;
      // 1006: the viewer vanished without a close frame; cancel rather than close.
      if (code === 1006) stream.reset('ERR_CANCEL', 'viewer connection lost');
      else stream.closeWs(code, reason.toString('utf8'));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code !== WS_ERR_TOO_BIG) return ctx.logger.debug({ err }, 'relay: viewer WebSocket error');
      tooBig = true;
      ctx.logger.info({ limit: ctx.maxMessageBytes }, 'relay: viewer WebSocket message over the limit; closed with 1009');
      stream.closeWs(WS_CLOSE_MESSAGE_TOO_BIG, tooBigReason);
    });
  }

  return {
    /** Relays one upgrade; returns the stream opened for it (undefined when refused before one was). */
    relay(connection: Connection, req: IncomingMessage, socket: Duplex, head: Buffer): Stream | undefined {
      if (!isWebSocketHandshake(req)) return void writeRawText(socket, 400, 'Bad WebSocket handshake');
      // A ticket (WS_TICKET_PARAM, appended by the shim) brings the SW jar's cookies. One that is present but not
      // redeemable refuses the upgrade: going on with the browser's cookies alone would open the socket as someone
      // else (often anonymous) and fail later in app-specific ways; a refusal is loud, and a ticket never lends
      // cookies across sessions.
      const ticket = redeemTicket(ctx, req, socket);
      if (!ticket) return undefined;
      const { taken, ticketCookie } = ticket;
      const cannotRelay = (code: string) =>
        writeRawText(socket, statusForCode(code), `Wingman could not relay this WebSocket (${code})`, [[TRANSPORT_HEADER, 'relay']]);
      let stream: Stream;
      try {
        const headers = applyWsTicketCookies(requestHeadersForAgent(req, { forwardedProto: ctx.forwardedProto, drop: WEBSOCKET_HOP_FIELDS }), ticketCookie);
        stream = connection.open('ws', { method: 'GET', target: taken.target, headers });
      } catch (err) {
        if (!(err instanceof ProtocolError)) ctx.logger.error({ err }, 'relay: opening a WebSocket stream failed');
        cannotRelay(err instanceof ProtocolError ? err.code : 'ERR_INTERNAL');
        return undefined;
      }
      ctx.metrics.relayedRequests.inc({ kind: 'ws' });

      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        socket.off('close', onSocketClose);
      };
      const fail = (code: string) => {
        settle();
        cannotRelay(code);
      };
      const timer = setTimeout(() => {
        stream.reset('ERR_UPSTREAM_TIMEOUT', 'no answer to the WebSocket open in time');
        fail('ERR_UPSTREAM_TIMEOUT');
      }, AGENT_WS_OPEN_TIMEOUT_MS);
      // The viewer gave up while the agent was still opening: cancel upstream.
      const onSocketClose = () => {
        if (settled) return;
        settle();
        stream.reset('ERR_CANCEL', 'viewer closed during the WebSocket open');
      };
      socket.on('close', onSocketClose);
      stream.once('reset', (error) => {
        if (!settled) fail(error.code);
      });
      preempts.set(stream, () => {
        if (settled) return;
        settle();
        writeRawText(socket, 503, `${CUT_MESSAGE} (${ERR_VIEWER_STREAMS})`, [
          [TRANSPORT_HEADER, 'relay'],
          ['retry-after', String(RETRY_AFTER_S)],
        ]);
      });

      stream.once('response', (response) => {
        if (settled) return;
        if (response.status < 200 && response.status !== 101) {
          stream.reset('ERR_PROTOCOL', `status ${response.status} answering a WebSocket open`);
          return fail('ERR_PROTOCOL');
        }
        settle();
        // A refusal's cookies, and a 101's (RFC 6455 §4.1), stay on this session's host.
        const headers = hostOnlyCookies(response.headers, hostnameOf(req.headers.host ?? ''));
        if (response.status !== 101) {
          // The app declined the upgrade (404, 401…): pass its status and headers on. A ws stream carries no body
          // (DATA is HTTP-only on the wire), so the refusal goes out with an empty one.
          stream.reset('ERR_CANCEL', 'WebSocket upgrade declined');
          writeRawResponse(socket, response.status, responseHeadersForViewer(headers, new Set(['content-length'])));
          return;
        }
        const protocol = response.headers
          .find(([name]) => name === 'sec-websocket-protocol')?.[1]
          .split(',')[0]
          ?.trim();
        pending.set(req, { protocol, headers: responseHeadersForViewer(headers, UPGRADE_RESPONSE_DROP) });
        // If ws rejects the handshake after all, it answers the socket itself; the stream must not linger.
        const onLateClose = () => stream.reset('ERR_CANCEL', 'upgrade not completed');
        socket.once('close', onLateClose);
        wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off('close', onLateClose);
          pending.delete(req);
          bridge(ws, stream, socket);
        });
      });
      return stream;
    },

    /** Ends the viewer's side of a WebSocket whose stream was cut for a viewer holding fewer: a 503 while pending, else 1013 with CUT_REASON. */
    preempt(stream: Stream): void {
      preempts.get(stream)?.();
    },

    close(): void {
      for (const ws of viewers) ws.terminate();
      viewers.clear();
      wss.close();
    },
  };
}
