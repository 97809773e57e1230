/**
 * Which P2P exchanges reached the app, so a request the Service Worker sends
 * again over the relay after its channel failed (EXCHANGE_HEADER) reaches the
 * app at most once: the P2P host notes each exchange that carries an id as it
 * begins forwarding it to the app, and the agent's relay forwarder refuses
 * the same id (502 ALREADY_RECEIVED_ERROR) instead of forwarding it again.
 *
 * Bounded in count and time: per viewer (the P2P viewer whose channel carried
 * the exchange) at most EXCHANGES_PER_VIEWER ids, the oldest forgotten
 * first; at most EXCHANGE_VIEWERS viewers, the one quiet the longest
 * forgotten first; an id is kept while its exchange lasts and
 * EXCHANGE_KEEP_MS after it ended (the Service Worker sends the request
 * again within seconds of the failure). Only P2P viewers' exchanges add to
 * it; a relayed request only looks an id up.
 */
import { EXCHANGE_HEADER, EXCHANGE_ID_PATTERN, type HeaderList, type Stream } from '@wingman/protocol';
import type { TransportName } from './headers';

/** Ids kept per viewer: far more than a page has requests with a body in flight at once. */
export const EXCHANGES_PER_VIEWER = 512;
/** Viewers whose ids are kept: twice the agent's default cap on P2P peers, so the viewers of a host that just died are among them. */
export const EXCHANGE_VIEWERS = 64;
/** How long an id is kept after its exchange ended, ms. */
export const EXCHANGE_KEEP_MS = 60_000;

/** What the P2P side tells: an exchange began forwarding to the app, or ended. */
export interface ExchangeLog {
  began(viewer: string, id: string): void;
  ended(viewer: string, id: string): void;
}

/** What a forwarder is given: the P2P host's logs its exchanges, the agent's relay side also asks. */
export type ExchangeHooks = ExchangeLog & Partial<Pick<ExchangeRecord, 'reached'>>;

/** The agent's record: the P2P side's log, and the relay side's question. */
export interface ExchangeRecord extends ExchangeLog {
  /** Whether the P2P exchange `id` began forwarding to the app (and is still remembered). */
  reached(id: string): boolean;
  /** Every exchange in flight ended now (the P2P host process died with them). */
  endAll(): void;
}

/** Per viewer: id → when its exchange ended (undefined while it lasts), in the order the exchanges began. */
type Viewer = Map<string, number | undefined>;

export function createExchangeRecord(now: () => number = Date.now): ExchangeRecord {
  const viewers = new Map<string, Viewer>();
  return {
    began(viewer, id) {
      const ids = viewers.get(viewer) ?? new Map<string, number | undefined>();
      // The viewer moves to the end: the one quiet the longest is forgotten first.
      viewers.delete(viewer);
      viewers.set(viewer, ids);
      ids.set(id, undefined);
      if (ids.size > EXCHANGES_PER_VIEWER) ids.delete(ids.keys().next().value as string);
      if (viewers.size > EXCHANGE_VIEWERS) viewers.delete(viewers.keys().next().value as string);
    },
    ended(viewer, id) {
      const ids = viewers.get(viewer);
      if (ids?.has(id)) ids.set(id, now());
    },
    reached(id) {
      for (const [viewer, ids] of viewers) {
        if (!ids.has(id)) continue;
        const endedAt = ids.get(id);
        if (endedAt === undefined || now() - endedAt <= EXCHANGE_KEEP_MS) return true;
        ids.delete(id);
        if (ids.size === 0) viewers.delete(viewer);
        return false;
      }
      return false;
    },
    endAll() {
      const at = now();
      for (const ids of viewers.values()) for (const [id, endedAt] of ids) if (endedAt === undefined) ids.set(id, at);
    },
  };
}

/** The request's exchange id, when it carries a valid one. */
export function exchangeIdOf(headers: HeaderList): string | undefined {
  const value = headers.find(([n]) => n === EXCHANGE_HEADER)?.[1];
  return value !== undefined && EXCHANGE_ID_PATTERN.test(value) ? value : undefined;
}

/** A request sent again over the relay whose P2P exchange had already reached the app. */
export function resentAfterReaching(headers: HeaderList, transport: TransportName, record: ExchangeHooks | undefined): boolean {
  if (transport !== 'relay' || !record?.reached) return false;
  const id = exchangeIdOf(headers);
  return id !== undefined && record.reached(id);
}

/** Notes that a P2P exchange with an id begins forwarding to the app; it ends when its stream closes. */
export function noteForwarding(stream: Stream, transport: TransportName, viewerId: string | undefined, log: ExchangeLog | undefined): void {
  if (transport !== 'p2p' || !log) return;
  const id = exchangeIdOf(stream.head.headers);
  if (id === undefined) return;
  const viewer = viewerId ?? '';
  log.began(viewer, id);
  if (stream.closed) log.ended(viewer, id);
  else stream.once('close', () => log.ended(viewer, id));
}
