/**
 * The route header of a response (ROUTE_HEADER): the transport that carried
 * the request and the reason the browser's Service Worker gave for choosing
 * it (sent as a request header of the same name). A request no Service
 * Worker routed says so: `relay; reason=no-service-worker` (a first visit, a
 * browser without a Service Worker, curl) or `p2p; reason=direct-client`
 * (`wingman fetch`). A reason that is not a plain token is not echoed.
 */
import { ROUTE_HEADER, ROUTE_REASON_PATTERN, type HeaderList } from '@wingman/protocol';
import type { TransportName } from './headers';

export function routeOf(requestHeaders: HeaderList, transport: TransportName): string {
  const sent = requestHeaders.find(([n]) => n === ROUTE_HEADER)?.[1]?.trim();
  const reason = sent !== undefined && ROUTE_REASON_PATTERN.test(sent) ? sent : transport === 'relay' ? 'no-service-worker' : 'direct-client';
  return `${transport}; reason=${reason}`;
}
