/**
 * The viewer cookie: who a viewer is on sessions with a viewer gate (docs/PROTOCOL.md §Viewer identity). Its value is
 * `<visitor id>.<MAC>`: 128 random bits and their HMAC bound to the session id under the access-cookie key (shared by
 * a cluster), so it cannot be made up nor carried to another session. A client without one (curl) is one viewer per
 * address and User-Agent (its id an HMAC of both); a browser's first navigation gets a fresh random id, so two
 * browsers behind one NAT are never one viewer.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isNavigation } from '../http/is-navigation';
import { VIA_HEADER, VIA_SW } from '@wingman/protocol';
import { LRUCache } from 'lru-cache';
import { ownCookie, requestCookie } from '../http/request-cookie';
import { currentKey, signedUnder, type Keys } from '../keys/key-ring';
import { sourceKey } from '../http/source-key';

/** Name of the viewer cookie on a session origin (removed from every request before the app sees it). */
export const VIEWER_COOKIE = 'wingman_viewer';

/** Bytes of a visitor id: 128 bits, unguessable. */
const VISITOR_ID_BYTES = 16;
/** Characters of the cookie's MAC kept (base64url of 16 bytes = 128 bits). */
const MAC_CHARS = 22;
/** The viewer cookie lasts as long as the longest session (MAX_SESSION_EXPIRY_MS: 30 days), seconds. */
const VIEWER_COOKIE_MAX_AGE_S = 30 * 86_400;
/**
 * Identities remembered, so that a viewer's next request costs a map lookup instead of one or two HMACs and a cookie
 * serialization (~10 % of the server's CPU per small relayed request in a profile). Bounded in entries and in key
 * characters (the User-Agent is the client's to choose), least recently used out first; emptied when the signing key
 * changes.
 */
const IDENTITY_CACHE_ENTRIES = 10_000;
const IDENTITY_CACHE_KEY_CHARS = 4 * 1024 * 1024;

export interface ViewerIdentity {
  id: string;
  /** Set-Cookie for the response when the viewer gets (or should keep) its cookie. */
  setCookie?: string;
}

const macOf = (key: Uint8Array, sessionId: string, id: string) =>
  createHmac('sha256', key).update('viewer\0').update(sessionId).update('\0').update(id).digest('base64url').slice(0, MAC_CHARS);

export type ViewerCookies = ReturnType<typeof createViewerCookies>;

export function createViewerCookies(options: { key: Keys; secureCookie: boolean }) {
  /** Cookie value or anonymous source (prefixed by the session id) → the identity it stands for. */
  const cache = new LRUCache<string, { id: string; setCookie?: string }>({
    max: IDENTITY_CACHE_ENTRIES,
    maxSize: IDENTITY_CACHE_KEY_CHARS,
    sizeCalculation: (_value, key) => key.length,
  });
  let cachedUnder: Uint8Array | undefined;
  /** The cache, valid for the current signing key. */
  const identities = () => {
    const key = currentKey(options.key);
    if (key !== cachedUnder) {
      cache.clear();
      cachedUnder = key;
    }
    return cache;
  };

  const cookieFor = (sessionId: string, id: string) =>
    ownCookie(VIEWER_COOKIE, `${id}.${macOf(currentKey(options.key), sessionId, id)}`, options.secureCookie, VIEWER_COOKIE_MAX_AGE_S);

  const fromCookie = (req: IncomingMessage, sessionId: string): string | undefined => {
    const value = requestCookie(req, VIEWER_COOKIE);
    const m = value === undefined ? null : /^([0-9a-f]{32})\.([A-Za-z0-9_-]{22})$/.exec(value);
    if (!m) return undefined;
    const cacheKey = `c\0${sessionId}\0${value}`;
    const known = identities().get(cacheKey);
    if (known) return known.id;
    if (!signedUnder(options.key, m[2]!, (key) => macOf(key, sessionId, m[1]!))) return undefined;
    identities().set(cacheKey, { id: m[1]! });
    return m[1];
  };

  /** The identity of a client without a viewer cookie: one per session, address and User-Agent. */
  const anonymous = (sessionId: string, address: string, ua: string): { id: string; setCookie: string } => {
    const source = sourceKey(address);
    const cacheKey = `a\0${sessionId}\0${source}\0${ua}`;
    const known = identities().get(cacheKey);
    if (known?.setCookie !== undefined) return { id: known.id, setCookie: known.setCookie };
    const id = createHmac('sha256', currentKey(options.key))
      .update(`anonymous-viewer\0${sessionId}\0${source}\0${ua}`)
      .digest('hex')
      .slice(0, 2 * VISITOR_ID_BYTES);
    const identity = { id, setCookie: cookieFor(sessionId, id) };
    identities().set(cacheKey, identity);
    return identity;
  };

  /** Who sent `req` on session `sessionId`; `address` is the viewer's (viewer-address.ts). */
  return (req: IncomingMessage, sessionId: string, address: string): ViewerIdentity => {
    const known = fromCookie(req, sessionId);
    if (known) return { id: known };
    // The Service Worker's fetches: a Set-Cookie on them would land in its own jar, not the browser's.
    const mayStick = req.headers[VIA_HEADER] !== VIA_SW;
    if (isNavigation(req.headers)) {
      const id = randomBytes(VISITOR_ID_BYTES).toString('hex');
      return mayStick ? { id, setCookie: cookieFor(sessionId, id) } : { id };
    }
    const { id, setCookie } = anonymous(sessionId, address, String(req.headers['user-agent'] ?? ''));
    return mayStick ? { id, setCookie } : { id };
  };
}
