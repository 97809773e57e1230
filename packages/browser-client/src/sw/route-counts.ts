/**
 * How many requests this Service Worker sent each way and why (route-decision.ts), with the shells it knows to
 * have an open channel and those whose loss probe is pending, for the diagnostics page (it asks on
 * BroadcastChannel(DIAGNOSTICS_CHANNEL)). In memory only: a restarted SW counts from zero.
 */
import { DIAGNOSTICS_CHANNEL } from '../shared/constants';
import { MAX_ROUTE_KINDS, parseDiagRequest, type DiagRoutesReply, type RouteCounts } from '../shared/diagnostics';
import type { RoutePath, RouteReason } from './route-decision';

export type RouteCounter = ReturnType<typeof createRouteCounter>;

export function createRouteCounter() {
  const counts = new Map<string, number>();
  return {
    count(path: RoutePath, reason: RouteReason): void {
      const key = `${path} ${reason}`;
      if (!counts.has(key) && counts.size >= MAX_ROUTE_KINDS) return;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    snapshot: (): RouteCounts => Object.fromEntries(counts),
  };
}

/** Answers the diagnostics page's requests with the counts and `shells()` (with an open channel; with a pending loss probe). No-op where BroadcastChannel is missing. */
export function answerDiagnostics(counter: RouteCounter, shells: () => Pick<DiagRoutesReply, 'channels' | 'probing'>): void {
  if (typeof BroadcastChannel !== 'function') return;
  const channel = new BroadcastChannel(DIAGNOSTICS_CHANNEL);
  channel.onmessage = (ev: MessageEvent) => {
    const req = parseDiagRequest(ev.data);
    if (!req) return;
    channel.postMessage({ type: 'wingman:diag-routes', id: req.id, routes: counter.snapshot(), ...shells() } satisfies DiagRoutesReply);
  };
}
