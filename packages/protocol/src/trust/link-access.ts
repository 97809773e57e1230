/**
 * Access by capability: a session's host name gives nothing; its link key
 * does. The viewer proves it holds the key without the server learning it:
 *
 *   token    = HMAC-SHA-256(link key, "wingman-v1\nlink-access")   (32 bytes)
 *   verifier = SHA-256(token)                                      (32 bytes)
 *
 * The agent registers the verifier (`register.linkVerifier`); the shell's
 * bootstrap page derives the token from `#k=` and presents it once
 * (LINK_TOKEN_HEADER), which earns an HttpOnly access cookie for the session
 * origin. The server keeps only the verifier and checks SHA-256(token)
 * against it: a server that stores verifiers cannot open the link, and a
 * token cannot be turned back into the key (which also keys signaling and
 * channel binding, signal-mac.ts). Spec: docs/PROTOCOL.md §Link access.
 */
import { fromBase64url } from './base64url';

/** The HMAC's message: domain-separated from the other uses of the link key. */
export const LINK_ACCESS_LABEL = 'wingman-v1\nlink-access';
/** Request header a non-browser client (curl, scripts) presents the token in; removed before the app. */
export const LINK_TOKEN_HEADER = 'x-wingman-link-token';
/** Tunnel-server endpoint the bootstrap page POSTs the token to (in LINK_TOKEN_HEADER): 204 with the access cookie. */
export const LINK_PATH = '/__wingman/link';
/** A token or a verifier: 32 bytes as base64url, 43 characters. */
const LINK_DIGEST_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The bytes of a token or verifier text, or undefined when it is not one. */
export function linkDigestBytes(text: string): Uint8Array | undefined {
  if (!LINK_DIGEST_PATTERN.test(text)) return undefined;
  const bytes = fromBase64url(text);
  return bytes?.length === 32 ? bytes : undefined;
}
