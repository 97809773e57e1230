/** Writing responses into a stream: the transport and route headers, and a complete error page. */
import { encodeResponseHead, ProtocolError, ROUTE_HEADER, ROUTE_REASON_PATTERN, TRANSPORT_HEADER, type HeaderList, type Stream } from '@wingman/protocol';
import type { ErrorPage } from './error-page';
import type { TransportName } from './headers';

/** The transport header and, for HTTP, the route header (routeOf), replacing any the app set. */
export function withTransport(headers: HeaderList, transport: TransportName, route?: string): HeaderList {
  const out = headers.filter(([n]) => n !== TRANSPORT_HEADER && n !== ROUTE_HEADER);
  out.push([TRANSPORT_HEADER, transport]);
  if (route !== undefined) out.push([ROUTE_HEADER, route]);
  return out;
}

/** Why a head cannot travel (the protocol's header limits): Stream.respond() would throw after marking itself responded. */
export function headProblem(status: number, headers: HeaderList): string | undefined {
  try {
    encodeResponseHead({ status, headers });
    return undefined;
  } catch (err) {
    if (err instanceof ProtocolError) return err.message;
    throw err;
  }
}

/** Unless the stream already answered or closed; whether it was sent. */
export function sendPage(stream: Stream, page: ErrorPage, transport: TransportName, route?: string): boolean {
  if (stream.responded || stream.closed) return false;
  stream.respond({ status: page.status, headers: withTransport(page.headers, transport, route) });
  stream.write(page.body);
  stream.end();
  return true;
}

/**
 * The route header (ROUTE_HEADER): the transport and the reason the Service
 * Worker gave; unrouted requests say `relay; reason=no-service-worker` or
 * `p2p; reason=direct-client`. A reason that is not a plain token is not echoed.
 */
export function routeOf(requestHeaders: HeaderList, transport: TransportName): string {
  const sent = requestHeaders.find(([n]) => n === ROUTE_HEADER)?.[1]?.trim();
  const reason = sent !== undefined && ROUTE_REASON_PATTERN.test(sent) ? sent : transport === 'relay' ? 'no-service-worker' : 'direct-client';
  return `${transport}; reason=${reason}`;
}
