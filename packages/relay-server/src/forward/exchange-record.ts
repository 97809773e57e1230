/**
 * Which exchanges with an id (EXCHANGE_HEADER) reached the app, so a request
 * the Service Worker sends again over the relay after its channel failed
 * reaches it at most once: each copy claims its id before it is forwarded
 * (the P2P one from the host process over IPC); the first claim wins, the
 * other gets 502 ALREADY_RECEIVED_ERROR once its body is in. Bounded per
 * viewer, in viewers and in time (the SW resends within seconds).
 */
import { EXCHANGE_HEADER, EXCHANGE_ID_PATTERN, type Stream } from '@wingman/protocol';
import type { TransportName } from './headers';

/** Ids kept per viewer (and relayed): far more than a page has requests with a body in flight at once. */
export const EXCHANGES_PER_VIEWER = 512;
/** Viewers whose ids are kept: twice the agent's default cap on P2P peers, so the viewers of a host that just died are among them. */
export const EXCHANGE_VIEWERS = 64;
export const EXCHANGE_KEEP_MS = 60_000;

/**
 * A claim on an exchange's id before it is forwarded, and the exchange's end;
 * `viewer`: the P2P viewer, undefined for a relayed request. Answered at once
 * in the agent, after a round trip from the P2P host (undefined: no answer).
 */
export interface ExchangeClaims {
  /** Whether this copy is the one to forward: no copy claimed it before (still remembered). */
  claim(viewer: string | undefined, id: string): boolean | Promise<boolean | undefined>;
  ended(viewer: string | undefined, id: string): void;
}

export interface ExchangeRecord extends ExchangeClaims {
  claim(viewer: string | undefined, id: string): boolean;
  /** Their P2P host process died with their exchanges in flight. */
  endViewers(viewers: Iterable<string>): void;
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
    endViewers(ended) {
      const at = now();
      for (const viewer of ended) {
        const claims = viewers.get(viewer);
        if (claims) for (const [id, endedAt] of claims) if (endedAt === undefined) claims.set(id, at);
      }
    },
  };
}

export type ClaimOutcome = 'forward' | 'refuse' | 'unanswered';

/** At once when `claims` answers at once, else a promise (the stream paused meanwhile); no id, no claim. A won claim ends with the stream. */
export function claimExchange(
  stream: Stream,
  transport: TransportName,
  viewerId: string | undefined,
  claims: ExchangeClaims | undefined,
): ClaimOutcome | Promise<ClaimOutcome> {
  const id = claims && stream.head.headers.find(([n]) => n === EXCHANGE_HEADER)?.[1];
  if (!claims || id === undefined || !EXCHANGE_ID_PATTERN.test(id)) return 'forward';
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
