/**
 * Session ids bound to their resume secret: id = the first 130 bits of HMAC-SHA256(session key, secret), base32, so a
 * server that lost its sessions can verify a `resume` without having stored anything, and claiming an id takes a
 * preimage (2^130 work). The key (SESSION_KEY_FILE in the state directory, mode 0600) binds ids to this server;
 * deleting it revokes every claim. docs/operations.md §Restarts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentKey, keysOf, type Keys } from '../keys/key-ring';
import type { Logger } from '../logger';
import { base32, SESSION_ID_CHARS } from './session-id';

/** Size of the session key: 256 bits, the size of HMAC-SHA256's output (RFC 2104 §3). */
const SESSION_KEY_BYTES = 32;
const SESSION_KEY_FILE = 'session-key';
/** Domain separation: this HMAC computes session ids and nothing else. */
const LABEL = 'wingman-session-id\0';

/** The session id bound to `resumeSecret` under `key`. */
export function sessionIdFor(key: Uint8Array, resumeSecret: string): string {
  return base32(createHmac('sha256', key).update(LABEL).update(resumeSecret, 'utf8').digest()).slice(0, SESSION_ID_CHARS);
}

/** A key for another purpose (`name`), derived from the session key: it lasts as long as the session key does. */
export function deriveKey(sessionKey: Uint8Array, name: string): Buffer {
  return createHmac('sha256', sessionKey).update(`wingman-derived-key\0${name}`).digest();
}

export type SessionIds = ReturnType<typeof createSessionIds>;

export function createSessionIds(keys: Keys) {
  return {
    idFor: (secret: string): string => sessionIdFor(currentKey(keys), secret),
    /** Whether `sessionId` is bound to `resumeSecret` under any key of the ring. Ids are public, so a plain comparison leaks nothing an attacker lacks. */
    owns: (id: string, secret: string): boolean => keysOf(keys).some((k) => sessionIdFor(k, secret) === id),
  };
}

/**
 * The session key stored in `dir`, created (random, mode 0600 in a 0700 directory) when there is none. A file that
 * cannot be read or written gives a key for this process only, the error logged: URLs then change when the server
 * restarts.
 */
export function loadSessionKey(dir: string, logger: Logger): Buffer {
  const file = join(dir, SESSION_KEY_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(file)) {
      // Written whole, then linked into place (fails if the file exists): two servers starting at once never see half
      // a key, and the loser reads the winner's.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, randomBytes(SESSION_KEY_BYTES).toString('base64') + '\n', { mode: 0o600 });
      chmodSync(tmp, 0o600);
      try {
        linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        unlinkSync(tmp);
      }
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== SESSION_KEY_BYTES) throw new Error(`${file} does not hold a ${SESSION_KEY_BYTES}-byte base64 key; delete it to draw a new one`);
    return key;
  } catch (err) {
    logger.warn({ err, stateDir: dir }, 'cannot keep the session key in the state directory: agents get new URLs when this server restarts');
    return randomBytes(SESSION_KEY_BYTES);
  }
}
