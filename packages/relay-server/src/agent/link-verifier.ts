/**
 * The link key's verifier (docs/PROTOCOL.md §Link access): SHA-256 of the
 * access token HMAC-SHA-256(key, LINK_ACCESS_LABEL), base64url, synchronous
 * with node:crypto (the bootstrap page derives the same).
 */
import { createHash, createHmac } from 'node:crypto';
import { LINK_ACCESS_LABEL, linkKeyBytes } from '@wingman/protocol';

/** The access token of a link key (what a viewer presents), base64url. */
export function linkTokenOf(key: string): string {
  const bytes = linkKeyBytes(key);
  if (!bytes) throw new TypeError('not a link key');
  return createHmac('sha256', bytes).update(LINK_ACCESS_LABEL, 'utf8').digest('base64url');
}

/** The verifier of a link key (what the server keeps), base64url. */
export function linkVerifierOf(key: string): string {
  return createHash('sha256')
    .update(Buffer.from(linkTokenOf(key), 'base64url'))
    .digest('base64url');
}
