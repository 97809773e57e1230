/**
 * One-time WebSocket tickets (docs/browser-client.md §Cookies, "WebSockets over the relay"): the app's HttpOnly
 * cookies live only in the Service Worker's jar, which cannot put them on a WebSocket handshake, so the SW deposits
 * them here (WS_TICKET_PATH) for a ticket the shim's relayed WebSocket carries in WS_TICKET_PARAM. A ticket is random,
 * redeemable once, for WS_TICKET_TTL_MS, on the session host it was minted on. The store is bounded in count (overall
 * and per session) and swept lazily on every call: no timers, so nothing outlives the server.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_WS_TICKETS_PER_SESSION } from '../limits';
import { decrement } from '../http/source-key';

/** Random bytes per ticket: 192 bits (base64url, 32 characters), out of reach of guessing among MAX_WS_TICKETS within the TTL. */
const WS_TICKET_BYTES = 24;
/** Lifetime of a ticket, ms: the shim opens its WebSocket right after the SW's answer; 10 s covers a loaded browser, and a leaked ticket soon expires. */
export const WS_TICKET_TTL_MS = 10_000;
/**
 * Live tickets kept at most, all sessions together: only a memory bound (× MAX_WS_TICKET_COOKIE_BYTES = 128 MiB), not
 * a pool sessions share: filling it takes 512 sessions at their quota within one TTL, five agent tokens' worth.
 */
const MAX_WS_TICKETS = 16 * 1024;
/** Largest cookie string a ticket carries, bytes: nginx's header field limit, so a bigger Cookie would not reach most apps anyway. */
export const MAX_WS_TICKET_COOKIE_BYTES = 8 * 1024;

interface WsTicketGrant {
  /** `name=value; …` pairs from the SW's jar. */
  cookie: string;
  sessionId: string;
}

/** Why a ticket could not be redeemed (logged; the viewer sees ERR_WS_TICKET). */
export type WsTicketRefusal = 'unknown' | 'expired' | 'other-session';

export type MintResult = { ok: true; ticket: string; expiresInMs: number } | { ok: false; reason: 'too-large' | 'too-many' };
export type RedeemResult = { ok: true; grant: WsTicketGrant } | { ok: false; reason: WsTicketRefusal };

export type WsTicketStore = ReturnType<typeof createWsTicketStore>;

interface Entry extends WsTicketGrant {
  host: string;
  expiresAt: number;
}

/** `maxPerHost`: live tickets per session host (MAX_WS_TICKETS_PER_SESSION), so no session can use up another's; the rest for tests. */
export function createWsTicketStore({
  now = Date.now,
  ttlMs = WS_TICKET_TTL_MS,
  maxTickets = MAX_WS_TICKETS,
  maxPerHost = DEFAULT_MAX_WS_TICKETS_PER_SESSION,
}: { now?: () => number; ttlMs?: number; maxTickets?: number; maxPerHost?: number } = {}) {
  // Insertion order = expiry order (one TTL for all), so a sweep stops at the first live entry.
  const tickets = new Map<string, Entry>();
  const perHost = new Map<string, number>();

  const forget = (ticket: string, entry: Entry) => {
    tickets.delete(ticket);
    decrement(perHost, entry.host);
  };

  const sweep = (at: number) => {
    for (const [ticket, entry] of tickets) {
      if (entry.expiresAt > at) return;
      forget(ticket, entry);
    }
  };

  return {
    /**
     * A ticket for `cookie`, redeemable on `host` (a session host name, lower case, no port: hostnameOf()) only.
     * Refused when the cookie is too large or the store (or this host's share) is full.
     */
    mint(host: string, sessionId: string, cookie: string): MintResult {
      const at = now();
      sweep(at);
      if (Buffer.byteLength(cookie) > MAX_WS_TICKET_COOKIE_BYTES) return { ok: false, reason: 'too-large' };
      if (tickets.size >= maxTickets || (perHost.get(host) ?? 0) >= maxPerHost) return { ok: false, reason: 'too-many' };
      const ticket = randomBytes(WS_TICKET_BYTES).toString('base64url');
      tickets.set(ticket, { host, sessionId, cookie, expiresAt: at + ttlMs });
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      return { ok: true, ticket, expiresInMs: ttlMs };
    },

    /** Consumes the ticket (whatever the outcome: a ticket is tried once) and returns its cookies if it is live and for `host`. */
    redeem(ticket: string, host: string): RedeemResult {
      const at = now();
      const entry = tickets.get(ticket);
      // Removed before any check: a ticket presented on the wrong host is burnt too (it leaked).
      if (entry) forget(ticket, entry);
      sweep(at);
      if (!entry) return { ok: false, reason: 'unknown' };
      if (entry.expiresAt <= at) return { ok: false, reason: 'expired' };
      if (entry.host !== host) return { ok: false, reason: 'other-session' };
      return { ok: true, grant: { cookie: entry.cookie, sessionId: entry.sessionId } };
    },

    size(): number {
      sweep(now());
      return tickets.size;
    },

    clear(): void {
      tickets.clear();
      perHost.clear();
    },
  };
}

/** An upgrade's request target with WS_TICKET_PARAM taken out, and the ticket values found. */
interface TakenTicket {
  /** The target the app gets: the viewer's, minus every `<param>=…` pair (other pairs byte for byte). */
  target: string;
  tickets: string[];
}

/**
 * Splits `param` out of an origin-form target. Text surgery, not URL parsing: the app must see the rest of its query
 * exactly as its client sent it (the shim appends the pair as text for the same reason).
 */
export function takeWsTicket(target: string, param: string): TakenTicket {
  const q = target.indexOf('?');
  if (q === -1) return { target, tickets: [] };
  const tickets: string[] = [];
  const kept: string[] = [];
  for (const part of target.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (name === param) tickets.push(eq === -1 ? '' : part.slice(eq + 1));
    else kept.push(part);
  }
  if (tickets.length === 0) return { target, tickets };
  const path = target.slice(0, q);
  return { target: kept.length > 0 ? `${path}?${kept.join('&')}` : path, tickets };
}
