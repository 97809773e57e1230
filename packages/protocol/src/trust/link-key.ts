/**
 * The link key: 128 random bits the agent puts in the share link's fragment
 * (`https://<id>.<domain>/#k=<base64url>`). Browsers never send a fragment to
 * a server, so the tunnel server relays the signaling of a session without
 * knowing the key that authenticates it (signal-mac.ts, channel-binding.ts).
 * Spec: docs/PROTOCOL.md §Verified channels.
 */
import { fromBase64url, toBase64url } from './base64url';
import { webCrypto } from './webcrypto';

/** The fragment parameter that carries the key. */
const LINK_KEY_PARAM = 'k';
/** Bytes of a link key: 128 bits. */
const LINK_KEY_BYTES = 16;
/** Its base64url text: 22 characters. */
export const LINK_KEY_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** A new random link key, as base64url text. */
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

/**
 * Splits a fragment (`location.hash`) into the link key it carries and what
 * is left for the app: `#k=KEY` → the key and "", `#k=KEY&rest` → the key
 * and "#rest". A fragment without a valid key comes back whole.
 */
export function splitLinkKey(hash: string): { key?: string; rest: string } {
  const m = /^#k=([^&]*)(?:&(.*))?$/s.exec(hash);
  if (!m || !linkKeyBytes(m[1]!)) return { rest: hash };
  return { key: m[1]!, rest: m[2] ? `#${m[2]}` : '' };
}

/** The session id a viewer derives its keys with: the first label of the session's host name (`<id>.<domain>`). */
export function sessionIdOfHost(hostname: string): string {
  return hostname.split('.')[0]!.toLowerCase();
}
