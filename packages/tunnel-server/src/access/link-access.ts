/**
 * Access by capability (docs/PROTOCOL.md §Link access): on a session with a link verifier, every request and upgrade
 * must carry the link cookie or the token itself (LINK_TOKEN_HEADER). The server keeps only the verifier (SHA-256 of
 * the token), so it cannot open the link; a matching token earns the cookie (an HMAC of session id and verifier).
 * A navigation without either gets the bootstrap page (link-bootstrap.ts), anything else "link incomplete"; neither
 * the cookie nor the header reaches the app (viewers/tag-viewer.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LINK_TOKEN_HEADER, linkDigestBytes } from '@wingman/protocol';
import { ownCookie, requestCookie } from '../http/request-cookie';
import { currentKey, sameBytes, signedUnder, type Keys } from '../keys/key-ring';

/** Name of the link cookie on a session origin (removed from every request before the app sees it). */
export const LINK_COOKIE = 'wingman_link';

/** What the server keeps of a session's link key. */
export interface SessionLink {
  /** SHA-256 of the access token. */
  readonly verifier: Buffer;
  readonly sessionId: string;
}

export type LinkDecision =
  /** Let it through; `setCookie` when a token in the header earned the cookie just now. */
  | { kind: 'granted'; setCookie?: string }
  /** Neither a valid cookie nor a valid token. */
  | { kind: 'denied' };

export type LinkAccessGate = ReturnType<typeof createLinkAccessGate>;

interface LinkAccessOptions {
  /** Key of the cookie HMAC (the access cookie's: random per process, or shared by a cluster's nodes). */
  key: Keys;
  /** Mark the cookie Secure (the public URL is https). */
  secureCookie: boolean;
}

const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

/** The token of LINK_TOKEN_HEADER (one value, bounded), or undefined. */
function headerToken(req: IncomingMessage): Uint8Array | undefined {
  const v = req.headers[LINK_TOKEN_HEADER];
  if (typeof v !== 'string' || v.length > 64) return undefined;
  return linkDigestBytes(v.trim());
}

export function createLinkAccessGate(options: LinkAccessOptions) {
  const cookieUnder = (key: Uint8Array, link: SessionLink) =>
    createHmac('sha256', key).update('link\0').update(link.sessionId).update('\0').update(link.verifier).digest('base64url');

  const cookieMatches = (req: IncomingMessage, link: SessionLink): boolean => {
    const value = requestCookie(req, LINK_COOKIE);
    return value !== undefined && value.length <= 64 && signedUnder(options.key, value, (key) => cookieUnder(key, link));
  };

  const cookie = (link: SessionLink) => ownCookie(LINK_COOKIE, cookieUnder(currentKey(options.key), link), options.secureCookie);

  return {
    /** The link state of a session registered with `linkVerifier` (already validated by the protocol parser). */
    create(sessionId: string, verifier: string): SessionLink {
      return { sessionId, verifier: Buffer.from(verifier, 'base64url') };
    },

    /** Decides one request or upgrade. `earnCookie`: a matching token also earns the cookie (never on the Service Worker's relay fetches, whose Set-Cookie would land in its jar). */
    check(req: IncomingMessage, link: SessionLink, { earnCookie }: { earnCookie: boolean }): LinkDecision {
      if (cookieMatches(req, link)) return { kind: 'granted' };
      const token = headerToken(req);
      if (token === undefined || !sameBytes(sha256(token), link.verifier)) return { kind: 'denied' };
      return earnCookie ? { kind: 'granted', setCookie: cookie(link) } : { kind: 'granted' };
    },

    cookie,
  };
}
