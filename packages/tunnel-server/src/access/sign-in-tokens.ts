/**
 * The sign-in gate's signed values (access/sign-in-gate.ts, sign-in-flow.ts): `<base64url JSON>.<MAC>`, an
 * HMAC-SHA256 under the server's access-cookie key (shared by a cluster's nodes) bound to a purpose, so a value made
 * for one use (the apex's identity cookie) is never accepted for another (a session's cookie, a hand-off). Each
 * carries its own expiry. Nothing here is secret from the viewer (the email is its own); it only cannot be forged.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { currentKey, signedUnder, type Keys } from '../keys/key-ring';
import { parseJson } from '../http/parse-json';

/** The apex's cookie: who signed in on this server (host-only for the apex: never sent to session hosts). */
export const IDENTITY_COOKIE = 'wingman_identity';
/** A session origin's cookie: who signed in, for this session only (removed before anything reaches the app). */
export const SIGN_IN_COOKIE = 'wingman_signin';

/** How long a hand-off from the apex to a session origin is valid, seconds: one redirect. */
export const HANDOFF_MAX_AGE_S = 60;
/** Longest signed value read, characters: an email of 254 and a few fields. */
const MAX_SIGNED_CHARS = 1024;

export type SignedPurpose = 'identity' | 'session' | 'handoff';

const claimsSchema = z.object({
  /** The verified email. */
  e: z.string(),
  /** Expiry, seconds since the epoch. */
  x: z.number(),
  /** The session (session cookies and hand-offs). */
  s: z.string().optional(),
  /** A hand-off's one-time id. */
  n: z.string().optional(),
  /** A hand-off's path to go back to on the session origin. */
  r: z.string().optional(),
  /** A hand-off's binding: the digest of the secret the browser that started the sign-in holds (sign-in-binding.ts). */
  b: z.string().optional(),
});

export type SignedClaims = z.infer<typeof claimsSchema>;

const macOf = (key: Uint8Array, purpose: SignedPurpose, body: string) =>
  createHmac('sha256', key).update('sign-in\0').update(purpose).update('\0').update(body).digest('base64url');

export type SignedValues = ReturnType<typeof createSignedValues>;

export function createSignedValues(key: Keys) {
  return {
    sign(purpose: SignedPurpose, claims: SignedClaims): string {
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${body}.${macOf(currentKey(key), purpose, body)}`;
    },
    /** The claims of a value signed for `purpose`, unexpired at `nowS`; undefined otherwise. */
    verify(purpose: SignedPurpose, value: string | undefined, nowS = Math.floor(Date.now() / 1000)): SignedClaims | undefined {
      if (value === undefined || value.length > MAX_SIGNED_CHARS) return undefined;
      const dot = value.indexOf('.');
      if (dot < 0) return undefined;
      const body = value.slice(0, dot);
      if (!signedUnder(key, value.slice(dot + 1), (k) => macOf(k, purpose, body))) return undefined;
      const claims = parseJson(claimsSchema, Buffer.from(body, 'base64url').toString('utf8'));
      return claims && claims.x > nowS ? claims : undefined;
    },
  };
}
