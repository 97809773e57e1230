/**
 * The request side of an HTTP stream, dressed as the `http.IncomingMessage`
 * http-proxy expects: a Readable fed from the stream's body with
 * backpressure, plus method, url, headers and a socket stub. It also
 * enforces a declared Content-Length exactly, so a peer cannot append bytes
 * the local app would parse as another request.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Stream } from '@wingman/protocol';

export interface RequestBodyOptions {
  /** Declared Content-Length; undefined when the body length is unknown. */
  contentLength: number | undefined;
  /** The first body event arrived: true for data, false for end without data. */
  onFramingKnown: (hasBody: boolean) => void;
  /** The body disagrees with Content-Length (longer or shorter). Called at most once. */
  onViolation: (reason: string) => void;
}

/** What http-proxy reads from a request besides the Readable part. */
export interface RequestStub extends Readable {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  httpVersion: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  socket: SocketStub;
  connection: SocketStub;
}

/** http-proxy reads `remoteAddress`, `encrypted` and `destroyed` (web-incoming.js). */
export interface SocketStub {
  remoteAddress: string | undefined;
  encrypted: boolean;
  destroyed: boolean;
}

export interface RequestBody {
  readonly stub: RequestStub;
  /** The stream delivered its end (the whole body went to the stub). */
  readonly complete: boolean;
  /** Stop feeding the stub; from now on read and drop the rest of the body. */
  discard(): void;
}

/** Bytes of request body buffered towards the local app before the stream pauses (and withholds window credit). */
export const REQUEST_BODY_HIGH_WATER_BYTES = 1024 * 1024;

export function createRequestBody(stream: Stream, options: RequestBodyOptions): RequestBody {
  let received = 0;
  let framingKnown = false;
  let complete = false;
  let discarding = false;
  let violated = false;

  const stub = new Readable({
    // Node's 16 KiB default would pause the stream after every frame of an upload.
    highWaterMark: REQUEST_BODY_HIGH_WATER_BYTES,
    read() {
      // The consumer wants more: let the stream deliver (and re-open its window).
      if (!discarding) stream.resume();
    },
  }) as RequestStub;
  const socket: SocketStub = { remoteAddress: undefined, encrypted: false, destroyed: false };
  stub.socket = socket;
  stub.connection = socket;
  stub.method = stream.head.method;
  stub.url = stream.head.target;
  stub.headers = {};
  stub.rawHeaders = [];
  stub.httpVersion = '1.1';
  stub.httpVersionMajor = 1;
  stub.httpVersionMinor = 1;
  // http-proxy adds its own 'error' listener once proxying starts; destroy() before that must not throw.
  stub.on('error', () => undefined);

  const known = (hasBody: boolean) => {
    if (framingKnown) return;
    framingKnown = true;
    options.onFramingKnown(hasBody);
  };
  const violate = (reason: string) => {
    if (violated) return;
    violated = true;
    discarding = true;
    options.onViolation(reason);
  };

  stream.on('data', (chunk) => {
    known(true);
    if (discarding) return;
    received += chunk.length;
    if (options.contentLength !== undefined && received > options.contentLength) {
      return violate(`request body longer than its Content-Length (${options.contentLength})`);
    }
    if (!stub.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) stream.pause();
  });
  stream.on('end', () => {
    complete = true;
    known(false);
    if (discarding) return;
    if (options.contentLength !== undefined && received < options.contentLength) {
      return violate(`request body of ${received} bytes, Content-Length ${options.contentLength}`);
    }
    stub.push(null);
  });

  return {
    stub,
    get complete() {
      return complete;
    },
    discard() {
      discarding = true;
      stream.resume();
    },
  };
}
