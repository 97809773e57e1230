/**
 * Writing responses into a stream: the transport header and a complete error
 * page.
 */
import { encodeResponseHead, ProtocolError, type HeaderList, type Stream } from '@wingman/protocol';
import { ROUTE_HEADER, TRANSPORT_HEADER } from './constants';
import type { ErrorPage } from './error-page';
import type { TransportName } from './headers';

/**
 * Adds the transport header and, for an HTTP response, the route header
 * (route.ts), replacing any the app may have set.
 */
export function withTransport(headers: HeaderList, transport: TransportName, route?: string): HeaderList {
  const out: HeaderList = [...headers.filter(([n]) => n !== TRANSPORT_HEADER && n !== ROUTE_HEADER), [TRANSPORT_HEADER, transport]];
  if (route !== undefined) out.push([ROUTE_HEADER, route]);
  return out;
}

/**
 * Checks that a head can travel (header count and size limits of the
 * protocol); returns the reason when it cannot. Stream.respond() would
 * throw after marking itself responded, so this runs first.
 */
export function headProblem(status: number, headers: HeaderList): string | undefined {
  try {
    encodeResponseHead({ status, headers });
    return undefined;
  } catch (err) {
    if (err instanceof ProtocolError) return err.message;
    throw err;
  }
}

/** Sends a whole error page, unless the stream already answered or closed. Returns whether it was sent. */
export function sendPage(stream: Stream, page: ErrorPage, transport: TransportName, route?: string): boolean {
  if (stream.responded || stream.closed) return false;
  stream.respond({ status: page.status, headers: withTransport(page.headers, transport, route) });
  stream.write(page.body);
  stream.end();
  return true;
}
