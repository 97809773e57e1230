/**
 * Access by capability: token = HMAC-SHA-256(link key, LINK_ACCESS_LABEL), verifier = SHA-256(token). The
 * agent registers the verifier, the viewer presents the token once for an access cookie: the server can
 * neither open the link nor learn the key. docs/PROTOCOL.md §Link access.
 */
import { fromBase64url } from './base64url';

/** Domain-separated from the other uses of the link key. */
export const LINK_ACCESS_LABEL = 'wingman-v1\nlink-access';
/** Request header a non-browser client (curl, scripts) presents the token in; removed before the app. */
export const LINK_TOKEN_HEADER = 'x-wingman-link-token';
/** Tunnel-server endpoint the bootstrap page POSTs the token to (in LINK_TOKEN_HEADER): 204 with the access cookie. */
export const LINK_PATH = '/__wingman/link';
const LINK_DIGEST_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The bytes of a token or verifier text, or undefined when it is not one. */
export function linkDigestBytes(text: string): Uint8Array | undefined {
  if (!LINK_DIGEST_PATTERN.test(text)) return undefined;
  const bytes = fromBase64url(text);
  return bytes?.length === 32 ? bytes : undefined;
}
