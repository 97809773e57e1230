/**
 * Which exchanges with an id reached the app, so a request the Service
 * Worker sends again over the relay after its channel failed
 * (EXCHANGE_HEADER) reaches the app at most once. The agent's record is the
 * one arbiter: each copy of the request claims its id before it is
 * forwarded — the relayed one in the agent itself, the P2P one from the P2P
 * host process over IPC (a request and its answer) — and only the copy whose
 * claim came first is forwarded. The other is answered, once its body is
 * in, with a 502 ALREADY_RECEIVED_ERROR. Whichever order the two copies reach
 * the agent in, the app gets one.
 *
 * Bounded in count and time: per viewer (the P2P viewer whose channel carried
 * the exchange) at most EXCHANGES_PER_VIEWER ids, the oldest forgotten
 * first; at most EXCHANGE_VIEWERS viewers, the one quiet the longest
 * forgotten first; relayed claims, at most EXCHANGES_PER_VIEWER, the oldest
 * forgotten first; an id is kept while its exchange lasts and
 * EXCHANGE_KEEP_MS after it ended (the Service Worker sends the request
 * again within seconds of the failure).
 */
import { EXCHANGE_HEADER, EXCHANGE_ID_PATTERN, type HeaderList, type Stream } from '@wingman/protocol';
import type { TransportName } from './headers';

/** Ids kept per viewer (and relayed): far more than a page has requests with a body in flight at once. */
export const EXCHANGES_PER_VIEWER = 512;
/** Viewers whose ids are kept: twice the agent's default cap on P2P peers, so the viewers of a host that just died are among them. */
export const EXCHANGE_VIEWERS = 64;
/** How long an id is kept after its exchange ended, ms. */
export const EXCHANGE_KEEP_MS = 60_000;

/**
 * What a forwarder is given: a claim on an exchange's id before it forwards
 * it, and the exchange's end. `viewer` is the P2P viewer whose channel
 * carried it, undefined for a relayed request. A claim is answered at once
 * in the agent, after a round trip to it in the P2P host process (undefined:
 * the agent did not answer).
 */
export interface ExchangeClaims {
  /** Whether this copy of exchange `id` is the one to forward: no copy claimed it before (that is still remembered). */
  claim(viewer: string | undefined, id: string): boolean | Promise<boolean | undefined>;
  ended(viewer: string | undefined, id: string): void;
}

/** The agent's record: the arbiter of every claim. */
export interface ExchangeRecord extends ExchangeClaims {
  claim(viewer: string | undefined, id: string): boolean;
  /** Every P2P exchange in flight ended now (the P2P host process died with them). */
  endAll(): void;
}

/** Per viewer: id → when its exchange ended (undefined while it lasts), in the order the exchanges were claimed. */
type Claims = Map<string, number | undefined>;

export function createExchangeRecord(now: () => number = Date.now): ExchangeRecord {
  const viewers = new Map<string, Claims>();
  const relayed: Claims = new Map();
  const kept = (claims: Claims, id: string): boolean => {
    if (!claims.has(id)) return false;
    const endedAt = claims.get(id);
    if (endedAt === undefined || now() - endedAt <= EXCHANGE_KEEP_MS) return true;
    claims.delete(id);
    return false;
  };
  const claimed = (id: string): boolean => {
    if (kept(relayed, id)) return true;
    for (const [viewer, claims] of viewers) {
      if (kept(claims, id)) return true;
      if (claims.size === 0) viewers.delete(viewer);
    }
    return false;
  };
  const bucket = (viewer: string): Claims => {
    const claims = viewers.get(viewer) ?? new Map<string, number | undefined>();
    // The viewer moves to the end: the one quiet the longest is forgotten first.
    viewers.delete(viewer);
    viewers.set(viewer, claims);
    if (viewers.size > EXCHANGE_VIEWERS) viewers.delete(viewers.keys().next().value as string);
    return claims;
  };
  return {
    claim(viewer, id) {
      if (claimed(id)) return false;
      const claims = viewer === undefined ? relayed : bucket(viewer);
      claims.set(id, undefined);
      if (claims.size > EXCHANGES_PER_VIEWER) claims.delete(claims.keys().next().value as string);
      return true;
    },
    ended(viewer, id) {
      const claims = viewer === undefined ? relayed : viewers.get(viewer);
      if (claims?.has(id)) claims.set(id, now());
    },
    endAll() {
      const at = now();
      for (const claims of viewers.values()) for (const [id, endedAt] of claims) if (endedAt === undefined) claims.set(id, at);
    },
  };
}

/** The request's exchange id, when it carries a valid one. */
export function exchangeIdOf(headers: HeaderList): string | undefined {
  const value = headers.find(([n]) => n === EXCHANGE_HEADER)?.[1];
  return value !== undefined && EXCHANGE_ID_PATTERN.test(value) ? value : undefined;
}

/** What a stream's claim came to: forward it to the app, refuse it (another copy was), or no answer from the agent. */
export type ClaimOutcome = 'forward' | 'refuse' | 'unanswered';

/**
 * Claims the stream's exchange when it carries an id: at once when `claims`
 * answers at once, else a promise (the stream paused meanwhile). A won
 * claim ends when the stream closes.
 * A request without an id is forwarded without a claim.
 */
export function claimExchange(
  stream: Stream,
  transport: TransportName,
  viewerId: string | undefined,
  claims: ExchangeClaims | undefined,
): ClaimOutcome | Promise<ClaimOutcome> {
  const id = claims ? exchangeIdOf(stream.head.headers) : undefined;
  if (!claims || id === undefined) return 'forward';
  const viewer = transport === 'p2p' ? (viewerId ?? '') : undefined;
  const settle = (won: boolean | undefined): ClaimOutcome => {
    if (won === undefined) return 'unanswered';
    if (!won) return 'refuse';
    if (stream.closed) claims.ended(viewer, id);
    else stream.once('close', () => claims.ended(viewer, id));
    return 'forward';
  };
  const won = claims.claim(viewer, id);
  if (typeof won === 'boolean') return settle(won);
  // While the agent answers, the body waits in the peer (no window credit), not here.
  stream.pause({ waiting: true });
  return won.then((answer) => {
    stream.resume();
    return settle(answer);
  });
}

/** Runs `then` with the claim's outcome: at once when it is known, else when the agent answers. */
export function whenClaimed(outcome: ClaimOutcome | Promise<ClaimOutcome>, then: (outcome: ClaimOutcome) => void): void {
  if (typeof outcome === 'string') then(outcome);
  else void outcome.then(then);
}
