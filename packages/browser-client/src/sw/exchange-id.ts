/**
 * The identity of a P2P exchange the Service Worker may send again over the
 * relay (EXCHANGE_HEADER; docs/browser-client.md §Failures): a request other
 * than GET and HEAD whose body the SW holds whole (request-body.ts: a body
 * it read to its end, or none). A body that streams on is not held, so such
 * a request gets no id and is never sent again once a byte of it left.
 */
import { toBase64url } from '@wingman/protocol';
import type { PreparedBody } from './request-body';

/** A new exchange id for a request the SW could send again, else undefined (GET and HEAD are sent again without one). */
export function exchangeIdFor(method: string, body: PreparedBody): string | undefined {
  if (method === 'GET' || method === 'HEAD' || body.kind === 'stream') return undefined;
  // 16 random bytes (EXCHANGE_ID_PATTERN).
  return toBase64url(crypto.getRandomValues(new Uint8Array(16)));
}
