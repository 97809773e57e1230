/**
 * A secret key that may change while the server runs (a cluster's nodes agree on the one stored in Redis;
 * cluster/shared-keys.ts), with the key it replaced kept for verification: whatever was signed just before a switch
 * (an access cookie, a hop header, a session id) still verifies after it. New signatures always use the current key.
 */
import { timingSafeEqual } from 'node:crypto';

export type KeyRing = ReturnType<typeof createKeyRing>;

/** Keys, as the consumers take them: a fixed key (tests, a single node) or a ring. */
export type Keys = Uint8Array | KeyRing;

export function keysOf(keys: Keys): readonly Uint8Array[] {
  return keys instanceof Uint8Array ? [keys] : keys.all();
}

export function currentKey(keys: Keys): Uint8Array {
  return keys instanceof Uint8Array ? keys : keys.current();
}

/** Whether `given` is `sign(key)` for a key of `keys` (compared in constant time): a MAC made under the current key or the one before. */
export function signedUnder(keys: Keys, given: string, sign: (key: Uint8Array) => string): boolean {
  const g = Buffer.from(given);
  return keysOf(keys).some((key) => sameBytes(Buffer.from(sign(key)), g));
}

/** Equal bytes, compared in constant time. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createKeyRing(initial: Uint8Array) {
  let current = initial;
  let previous: Uint8Array | undefined;
  return {
    /** The key to sign with. */
    current: (): Uint8Array => current,
    /** Every key a signature may verify under: the current one first, then the one it replaced. */
    all: (): readonly Uint8Array[] => (previous ? [current, previous] : [current]),
    /** Makes `key` the current key (the old one stays accepted); false when it already was. */
    adopt(key: Uint8Array): boolean {
      if (sameBytes(key, current)) return false;
      previous = current;
      current = key;
      return true;
    },
  };
}
