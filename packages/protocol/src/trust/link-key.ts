/** The link key: 128 random bits in the share link's fragment (`#k=…`), which browsers never send to a server. docs/PROTOCOL.md §Verified channels. */
import { fromBase64url, toBase64url } from './base64url';
import { webCrypto } from './webcrypto';

const LINK_KEY_PARAM = 'k';
const LINK_KEY_BYTES = 16;
export const LINK_KEY_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function generateLinkKey(): string {
  return toBase64url(webCrypto().getRandomValues(new Uint8Array(LINK_KEY_BYTES)));
}

/** The key's bytes, or undefined when `text` is not a link key. */
export function linkKeyBytes(text: string): Uint8Array | undefined {
  if (!LINK_KEY_PATTERN.test(text)) return undefined;
  const bytes = fromBase64url(text);
  return bytes?.length === LINK_KEY_BYTES ? bytes : undefined;
}

/** `url` with the key in its fragment (a fragment the URL had is replaced). */
export function linkWithKey(url: string, key: string): string {
  const hash = url.indexOf('#');
  return `${hash < 0 ? url : url.slice(0, hash)}#${LINK_KEY_PARAM}=${key}`;
}

/** `#k=KEY&rest` → the key and "#rest" for the app; a fragment without a valid key comes back whole. */
export function splitLinkKey(hash: string): { key?: string; rest: string } {
  const m = /^#k=([^&]*)(?:&(.*))?$/s.exec(hash);
  if (!m || !linkKeyBytes(m[1]!)) return { rest: hash };
  return { key: m[1]!, rest: m[2] ? `#${m[2]}` : '' };
}

/** The session id a viewer derives its keys with: the first label of the session's host name (`<id>.<domain>`). */
export function sessionIdOfHost(hostname: string): string {
  return hostname.split('.')[0]!.toLowerCase();
}
