/**
 * Hedged requests: a GET or HEAD waiting over P2P when its shell reports
 * that the channel stalls (page/stall-watch.ts: nothing arrives, a PING goes
 * unanswered) is sent over the relay as well; the first response head wins
 * and the other exchange is cancelled (the P2P stream is reset at the agent,
 * the relay fetch aborted). Only requests without a body, whose methods
 * HTTP defines as safe to repeat (RFC 9110 §9.2.2): the app may see such a
 * request twice. Why: on one ordered data channel a lost packet holds every
 * response behind it until SCTP retransmits it (300–600 ms apart at 2 % loss
 * in the lab, for seconds during a page load), while the relay's TCP
 * recovers within a round trip or two.
 */
import type { ShellOutcome } from './shell-fetch';

/**
 * Requests that must wait on a stalled channel for any of them to go over the
 * relay too. Measured at 2 % loss, 60 ms RTT: a lone request stalled once
 * took ~430–470 ms over P2P, and hedged after the stall was noticed up to
 * 1.2 s on a loaded machine (noticing takes two quiet periods, the relay
 * another ~130 ms); a page load's burst waited 300–600 ms per stall, for seconds.
 */
export const HEDGE_MIN_WAITING = 2;

export interface HedgeRegistry {
  /** Calls `fire` when the channel of the shell window `shellId` stalls; returns the function that unregisters it. */
  onStall(shellId: string, fire: () => void): () => void;
  /** That shell's channel stalls: fires (and forgets) every request registered for it, when at least HEDGE_MIN_WAITING are. Returns how many. */
  stalled(shellId: string): number;
}

export function createHedgeRegistry(): HedgeRegistry {
  const waiting = new Map<string, Set<() => void>>();
  return {
    onStall(shellId, fire) {
      let set = waiting.get(shellId);
      if (!set) waiting.set(shellId, (set = new Set()));
      set.add(fire);
      return () => {
        set.delete(fire);
        if (set.size === 0 && waiting.get(shellId) === set) waiting.delete(shellId);
      };
    },
    stalled(shellId) {
      const set = waiting.get(shellId);
      // A lone request keeps waiting: SCTP's retransmission (one RTO, ~0.4 s) comes about as soon as
      // the stall is noticed plus a relay round trip; a burst waits on stall after stall.
      if (!set || set.size < HEDGE_MIN_WAITING) return 0;
      waiting.delete(shellId);
      for (const fire of set) fire();
      return set.size;
    },
  };
}

export type HedgedResult = { via: 'p2p'; outcome: ShellOutcome } | { via: 'relay'; res: Response };

export interface HedgedOptions {
  /** The P2P exchange (shell-fetch.ts), aborted through `signal` when the relay wins. */
  p2p(signal: AbortSignal): Promise<ShellOutcome>;
  /** The same request over the relay; resolves with its head. */
  relay(signal: AbortSignal): Promise<Response>;
  /** Resolves when the request is to go over the relay as well (its channel stalls). */
  stall: Promise<void>;
  /** The request's own abort. */
  signal: AbortSignal;
}

/** Links two abort signals (AbortSignal.any where the browser has it). */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const any = (AbortSignal as unknown as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (typeof any === 'function') return any.call(AbortSignal, [a, b]);
  const c = new AbortController();
  if (a.aborted || b.aborted) c.abort();
  else for (const s of [a, b]) s.addEventListener('abort', () => c.abort(), { once: true });
  return c.signal;
}

/**
 * Runs the P2P exchange; once `stall` resolves before its head, the relay
 * too. Whichever head comes first is the answer. A P2P exchange that fails
 * after the relay leg started waits for the relay's answer instead; a relay
 * leg that fails leaves P2P to carry on.
 */
export async function hedgedExchange(options: HedgedOptions): Promise<HedgedResult> {
  const p2pCtl = new AbortController();
  const p2p = options.p2p(eitherSignal(options.signal, p2pCtl.signal)).then((outcome) => ({ outcome }));
  const first = await Promise.race([p2p, options.stall.then(() => undefined)]);
  if (first) return { via: 'p2p', outcome: first.outcome };
  if (options.signal.aborted) return { via: 'p2p', outcome: (await p2p).outcome };
  const relayCtl = new AbortController();
  const relay = options.relay(eitherSignal(options.signal, relayCtl.signal)).then(
    (res) => ({ res }),
    () => undefined,
  );
  const next = await Promise.race([p2p, relay]);
  if (next === undefined) return { via: 'p2p', outcome: (await p2p).outcome };
  if ('res' in next) {
    // The loser is cancelled: the shell resets its stream, the agent stops the app's answer.
    p2pCtl.abort();
    return { via: 'relay', res: next.res };
  }
  if (next.outcome.kind === 'response') {
    relayCtl.abort();
    return { via: 'p2p', outcome: next.outcome };
  }
  const r = await relay;
  return r ? { via: 'relay', res: r.res } : { via: 'p2p', outcome: next.outcome };
}
