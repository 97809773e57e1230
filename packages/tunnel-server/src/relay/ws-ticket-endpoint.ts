/**
 * WS_TICKET_PATH on a session host: the Service Worker POSTs the cookies the browser's jar lacks (`{"cookie": "a=1"}`)
 * for a one-time ticket (ws-tickets.ts); a ticket only carries what its minter sent. POST only, on an existing session,
 * `application/json` only, so a cross-site form POST cannot mint (that type needs a CORS preflight, never granted
 * here); the body is read whole, bounded in size and in time, so a client that sends too much or stalls gets its
 * answer and holds nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { hostnameOf } from '../http/host-route';
import { closeAfterResponse } from '../http/http2-compat';
import { sendJson } from '../http/json-response';
import { parseJson } from '../http/parse-json';
import type { ReservedRequestHandler } from '../routing/reserved-routes';
import { MAX_WS_TICKET_COOKIE_BYTES, type WsTicketStore } from './ws-tickets';

/** Largest request body, bytes: the cookie string and its JSON framing (escapes may double it). */
const MAX_WS_TICKET_BODY_BYTES = 2 * MAX_WS_TICKET_COOKIE_BYTES + 1024;

/** Longest wait for the body, ms. The SW sends a few KiB at once; this only cuts a client that stalls. */
const BODY_TIMEOUT_MS = 5_000;

/** The body: a Cookie header value, visible ASCII and spaces, no CR/LF (it becomes a header on the agent's side). */
const ticketBody = z.object({ cookie: z.string().regex(/^[\x20-\x7e]+$/) });

const fail = (res: ServerResponse, status: number, error: string, message: string) => sendJson(res, status, { error, message });

/** Reads the whole body up to `max` bytes; undefined when it is larger, stalls or errors (the response is then sent). */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | undefined, status?: number, error?: string, message?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (status !== undefined) {
        // The rest of the body is discarded and the connection closed after the answer (Node ends it on `connection: close`).
        closeAfterResponse(res);
        fail(res, status, error!, message!);
        req.resume();
      }
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined, 408, 'ERR_TIMEOUT', 'request body too slow'), BODY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return finish(undefined, 413, 'ERR_TOO_LARGE', `body over ${max} bytes`);
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => finish(undefined));
    req.once('close', () => finish(undefined));
  });
}

export function createWsTicketHandler(store: WsTicketStore): ReservedRequestHandler {
  return (req, res, ctx) => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return fail(res, 405, 'ERR_METHOD', 'POST only');
    }
    if (!ctx.session) return fail(res, 404, 'ERR_UNKNOWN_SESSION', `no session ${ctx.sessionId}`);
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return fail(res, 415, 'ERR_CONTENT_TYPE', 'application/json required');
    const host = hostnameOf(req.headers.host ?? '');
    void readBody(req, res, MAX_WS_TICKET_BODY_BYTES).then((text) => {
      if (text === undefined) return;
      const body = parseJson(ticketBody, text);
      if (!body) return fail(res, 400, 'ERR_INVALID_PAYLOAD', 'expected {"cookie": "<name=value; …>"}');
      const minted = store.mint(host, ctx.sessionId, body.cookie);
      if (!minted.ok) {
        return minted.reason === 'too-large'
          ? fail(res, 413, 'ERR_TOO_LARGE', `cookie over ${MAX_WS_TICKET_COOKIE_BYTES} bytes`)
          : fail(res, 429, 'ERR_TOO_MANY', 'too many WebSocket tickets pending; retry later');
      }
      sendJson(res, 200, { ticket: minted.ticket, expiresInMs: minted.expiresInMs });
    });
  };
}
