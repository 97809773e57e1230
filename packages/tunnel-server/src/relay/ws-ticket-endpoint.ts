/**
 * WS_TICKET_PATH on a session host: the Service Worker POSTs the cookies the browser's jar lacks (`{"cookie": "a=1"}`)
 * for a one-time ticket (ws-tickets.ts); a ticket only carries what its minter sent. `application/json` is required,
 * so a cross-site form POST cannot mint (that type needs a CORS preflight, never granted here).
 */
import type { ServerResponse } from 'node:http';
import { hostnameOf } from '../http/host-route';
import { readJsonPost } from '../http/json-post';
import { sendJson } from '../http/json-response';
import type { ReservedRequestHandler } from '../routing/reserved-routes';
import { MAX_WS_TICKET_COOKIE_BYTES, type WsTicketStore } from './ws-tickets';

/** Largest request body, bytes: the cookie string and its JSON framing (escapes may double it). */
const MAX_WS_TICKET_BODY_BYTES = 2 * MAX_WS_TICKET_COOKIE_BYTES + 1024;

const fail = (res: ServerResponse, status: number, error: string, message: string) => sendJson(res, status, { error, message });

export function createWsTicketHandler(store: WsTicketStore): ReservedRequestHandler {
  return (req, res, ctx) => {
    const host = hostnameOf(req.headers.host ?? '');
    void readJsonPost(req, res, ctx, MAX_WS_TICKET_BODY_BYTES).then((post) => {
      if (!post) return;
      const { text } = post;
      let cookie: unknown;
      try {
        cookie = (JSON.parse(text) as { cookie?: unknown } | null)?.cookie;
      } catch {
        cookie = undefined;
      }
      // A Cookie header value: visible ASCII and spaces, no CR/LF (it becomes a header on the agent's side).
      if (typeof cookie !== 'string' || cookie.length === 0 || !/^[\x20-\x7e]+$/.test(cookie)) {
        return fail(res, 400, 'ERR_INVALID_PAYLOAD', 'expected {"cookie": "<name=value; …>"}');
      }
      const minted = store.mint(host, ctx.sessionId, cookie);
      if (!minted.ok) {
        return minted.reason === 'too-large'
          ? fail(res, 413, 'ERR_TOO_LARGE', `cookie over ${MAX_WS_TICKET_COOKIE_BYTES} bytes`)
          : fail(res, 429, 'ERR_TOO_MANY', 'too many WebSocket tickets pending; retry later');
      }
      sendJson(res, 200, { ticket: minted.ticket, expiresInMs: minted.expiresInMs });
    });
  };
}
