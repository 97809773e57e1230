/**
 * The shim's side of WebSocket tickets (docs/browser-client.md §Cookies): before a relayed (native) WebSocket
 * opens, ask the Service Worker for a one-time ticket that makes the tunnel server add the SW jar's cookies.
 * '' (the browser's cookies alone) without a controlling SW, when the SW has none, or after
 * WS_TICKET_QUERY_TIMEOUT_MS: never hangs.
 */
import { WS_TICKET_PARAM } from '@wingman/protocol';
import { WS_TICKET_QUERY_TIMEOUT_MS } from '../shared/constants';
import { parseWsTicketReply, type WsTicketQuery } from '../shared/messages';
import { askOverPort } from '../shared/settle-within';

export function requestWsTicket(url: string): Promise<string> {
  const controller = navigator.serviceWorker?.controller;
  if (!controller) return Promise.resolve('');
  const query: WsTicketQuery = { type: 'wingman:ws-ticket', url };
  return askOverPort<string | undefined>(controller, query, WS_TICKET_QUERY_TIMEOUT_MS, undefined, parseWsTicketReply).then((t) => {
    // Said in the console: the socket now goes without the SW jar's cookies, and an app that authenticates it by an HttpOnly cookie will refuse it.
    if (t === undefined)
      console.warn(
        `wingman: no WebSocket ticket from the Service Worker within ${WS_TICKET_QUERY_TIMEOUT_MS} ms; ${url} opens with the browser's cookies only`,
      );
    return t ?? '';
  });
}

/**
 * `url` with the ticket appended as WS_TICKET_PARAM, as text: URLSearchParams would re-serialise the app's
 * query (`%20` → `+`); the tunnel server removes exactly this pair, so the app sees its query byte for byte.
 */
export function withWsTicket(url: string, ticket: string): string {
  if (!ticket) return url;
  const u = new URL(url);
  const pair = `${WS_TICKET_PARAM}=${ticket}`;
  u.search = u.search ? `${u.search}&${pair}` : `?${pair}`;
  return u.href;
}
