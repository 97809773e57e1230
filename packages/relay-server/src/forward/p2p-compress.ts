/**
 * Compression of response bodies for the data channel alone. A P2P body
 * crosses a channel whose rate (SCTP in userspace, a browser's UDP receive
 * buffer) is often a few MB/s, and a dev server sends its modules
 * uncompressed: a Vite app's pre-bundled React is ~3 MB of JavaScript, which
 * every other module of a cold visit waited behind. When the Service Worker
 * said it decodes gzip (P2P_ACCEPT_CODING_HEADER), a compressible body of
 * known length goes gzipped, marked P2P_CODING_HEADER; the SW decodes it
 * before anything reads it, so the page gets the app's own bytes and head.
 * docs/PROTOCOL.md §Compression on the data channel.
 */
import type { Transform } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { P2P_ACCEPT_CODING_HEADER, P2P_CODING_HEADER, type HeaderList } from '@wingman/protocol';

/**
 * Bodies below this many bytes cross as they are: a few hundred bytes saved
 * are worth less than a compression stream here and a decompression stream in
 * the Service Worker, per request.
 */
export const P2P_COMPRESS_MIN_BYTES = 4 * 1024;

/**
 * zlib level 4: measured on React's development build (1.2 MB), 5.5× smaller
 * in 12 ms, against 4.7× in 6 ms at level 1 and 5.9× in 16 ms at level 6.
 */
const GZIP_LEVEL = 4;

/** Media types whose bodies are text (or text-like) and compress well. */
const COMPRESSIBLE =
  /^(text\/(?!event-stream)|application\/(javascript|ecmascript|json|xml|manifest\+json|wasm)|image\/svg\+xml|application\/[a-z0-9.+-]+\+(json|xml))/;

const get = (headers: HeaderList, name: string) => headers.find(([n]) => n === name)?.[1];

/** Whether the viewer's Service Worker decodes gzip on the channel (it said so on the request). */
export function acceptsChannelGzip(requestHeaders: HeaderList): boolean {
  const v = get(requestHeaders, P2P_ACCEPT_CODING_HEADER);
  return v !== undefined && v.split(',').some((c) => c.trim().toLowerCase() === 'gzip');
}

/**
 * Whether a response goes gzipped over the channel: a 200 to a request
 * whose SW decodes gzip, not a range, a compressible type, not already
 * encoded, and a declared length of at least P2P_COMPRESS_MIN_BYTES (a body
 * without one may be a stream whose pieces must not wait for the compressor).
 */
export function compressForChannel(request: { method: string; headers: HeaderList }, status: number, headers: HeaderList): boolean {
  if (status !== 200 || request.method === 'HEAD' || !acceptsChannelGzip(request.headers)) return false;
  if (get(request.headers, 'range') !== undefined) return false;
  const encoding = get(headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== 'identity') return false;
  const length = Number(get(headers, 'content-length') ?? NaN);
  if (!Number.isSafeInteger(length) || length < P2P_COMPRESS_MIN_BYTES) return false;
  return COMPRESSIBLE.test((get(headers, 'content-type') ?? '').trim().toLowerCase());
}

/** The head as it crosses the channel: the app's, marked with the coding. */
export function withChannelCoding(headers: HeaderList): HeaderList {
  return [...headers.filter(([n]) => n !== P2P_CODING_HEADER), [P2P_CODING_HEADER, 'gzip']];
}

/** A gzip stream for one body: the caller writes the app's bytes in and reads the channel's out. */
export function channelGzip(): Transform {
  return createGzip({ level: GZIP_LEVEL, flush: constants.Z_NO_FLUSH });
}
