/**
 * Session ids and resume secrets. A session id is the DNS label of the session's origin (`<id>.<domain>`), so it must
 * be unguessable and a valid label: 130 bits in lower-case RFC 4648 base32, 26 characters (SESSION_ID_PATTERN in
 * @wingman/protocol), derived from the session's resume secret (session-key.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_ID_CHARS = 26;
/** Random bytes in a resume secret (256 bits). */
const RESUME_SECRET_BYTES = 32;

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 §6 base32, lower case, without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * A new resume secret: RESUME_SECRET_BYTES random bytes in base64url, and, for a session with a deadline (`wingman
 * http --expires`), `.` and that deadline in ms since the epoch. The id derives from the whole secret
 * (session-key.ts), so the deadline cannot be dropped or moved by whoever holds the secret: any node, after any
 * restart, reads it back from the secret an agent resumes with.
 */
export function createResumeSecret(expiresAt?: number): string {
  const random = randomBytes(RESUME_SECRET_BYTES).toString('base64url');
  return expiresAt === undefined ? random : `${random}.${Math.trunc(expiresAt)}`;
}

/** base64url has no `.`: what follows the last one is the deadline createResumeSecret() bound in (at most 16 digits). */
const DEADLINE_SUFFIX = /\.(\d{1,16})$/;

/** The deadline (ms since the epoch) bound into `resumeSecret`, or undefined when it has none. */
export function deadlineOf(resumeSecret: string): number | undefined {
  const m = DEADLINE_SUFFIX.exec(resumeSecret);
  return m ? Number(m[1]) : undefined;
}

/**
 * Constant-time string comparison. Both sides are hashed first so inputs of different lengths compare in the same
 * time (timingSafeEqual needs equal lengths).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
