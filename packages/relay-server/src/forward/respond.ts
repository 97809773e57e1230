/**
 * Writing responses into a stream: the transport header, a complete error
 * page, or a Node stream (the gzipped form of a body) piped with backpressure.
 */
import type { Readable } from 'node:stream';
import { encodeResponseHead, ProtocolError, type HeaderList, type Stream } from '@wingman/protocol';
import { ROUTE_HEADER, TRANSPORT_HEADER } from './constants';
import type { ErrorPage } from './error-page';
import type { ExchangeGuard } from './exchange-guard';
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

export interface PipeHandlers {
  /** The whole body went into the stream and the stream was ended. */
  onEnd: () => void;
  /** The source failed or closed before its end; the stream is left as is for the caller to reset. */
  onAbort: (reason: string) => void;
  /** The exchange's guard: the source's listeners run under it. */
  guard: ExchangeGuard;
}

/**
 * Pipes a Node stream (a response body's gzipped form) into the stream. Pauses the source while
 * the stream's queue is above its high-water mark. The caller sent the head.
 */
export function pipeBody(source: Readable, stream: Stream, handlers: PipeHandlers): void {
  const { guard } = handlers;
  let finished = false;
  const finish = (fn: () => void) => {
    if (finished) return;
    finished = true;
    fn();
  };
  source.on(
    'data',
    guard.wrap((chunk: Buffer) => {
      if (stream.closed) return;
      if (!stream.write(chunk)) {
        source.pause();
        stream.once('drain', () => source.resume());
      }
    }),
  );
  source.on(
    'end',
    guard.wrap(() =>
      finish(() => {
        stream.end();
        handlers.onEnd();
      }),
    ),
  );
  source.on(
    'error',
    guard.wrap((err: Error) => finish(() => handlers.onAbort(err.message))),
  );
  // 'close' without 'end': the source was destroyed mid-body.
  source.on(
    'close',
    guard.wrap(() => finish(() => handlers.onAbort('the body broke off mid-response'))),
  );
}
