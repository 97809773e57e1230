/**
 * The identity of a P2P exchange the Service Worker may send again over the
 * relay (EXCHANGE_HEADER; docs/browser-client.md §Failures): a request other
 * than GET and HEAD whose body the SW holds whole (request-body.ts: a body
 * it read to its end, or none). A body that streams on is not held, so such
 * a request gets no id and is never sent again once a byte of it left.
 */
import type { PreparedBody } from './request-body';

/** 16 random bytes, base64url (EXCHANGE_ID_PATTERN). */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** A new exchange id for a request the SW could send again, else undefined (GET and HEAD are sent again without one). */
export function exchangeIdFor(method: string, body: PreparedBody): string | undefined {
  if (method === 'GET' || method === 'HEAD' || body.kind === 'stream') return undefined;
  return randomId();
}
