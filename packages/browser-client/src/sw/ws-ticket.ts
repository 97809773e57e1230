/**
 * Tickets for the shim's relayed WebSockets (docs/browser-client.md §Cookies): a native WebSocket lacks the
 * app's HttpOnly cookies, which live in the SW's jar. The SW deposits them at the tunnel server
 * (WS_TICKET_PATH) and hands the shim only a one-time ticket, so they never enter the app's realm. Nothing to
 * add, or any failure: '' (the socket opens with the browser's cookies alone, never hangs).
 */
import { WS_TICKET_PATH } from '@wingman/protocol';
import { WS_TICKET_FETCH_TIMEOUT_MS } from '../shared/constants';
import { parseWsTicketReply } from '../shared/messages';
import type { SwCookies } from './cookies';
import { parseUrl } from '../shared/baseline';

/** The ticket for a WebSocket to `wsUrl` (ws:/wss: on the SW's own `origin`), or ''. */
export async function mintWsTicket(wsUrl: string, origin: string, cookies: SwCookies): Promise<string> {
  const url = parseUrl(wsUrl, origin);
  if (!url) return '';
  // Cookies are chosen for the http(s) form of the URL (RFC 6455 §4.1: the handshake sends the cookies of that URI).
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.origin !== origin) return '';
  // A WebSocket from the app's own document is same-site.
  const cookie = await cookies.relayHeaderFor(url, { crossSite: false, safeTopLevelNavigation: false });
  if (!cookie) return '';
  try {
    const res = await fetch(new URL(WS_TICKET_PATH, origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cookie }),
      cache: 'no-store',
      // The browser's cookies are not needed there.
      credentials: 'omit',
      // The abort also bounds reading the body.
      signal: AbortSignal.timeout(WS_TICKET_FETCH_TIMEOUT_MS),
    });
    if (!res.ok) {
      console.warn(
        `wingman: the tunnel server refused a WebSocket ticket (HTTP ${res.status} ${res.headers.get('x-wingman-error') ?? ''}); ${wsUrl} opens with the browser's cookies only`,
      );
      await res.body?.cancel().catch(() => undefined);
      return '';
    }
    return parseWsTicketReply(await res.json());
  } catch (err) {
    console.warn(`wingman: no WebSocket ticket (${err instanceof Error ? err.message : String(err)}); ${wsUrl} opens with the browser's cookies only`);
    return '';
  }
}
