/**
 * A secret key that may change while the server runs (a cluster's nodes agree on the one stored in Redis;
 * cluster/shared-keys.ts), with the key it replaced kept for verification: whatever was signed just before a switch
 * (an access cookie, a hop header, a session id) still verifies after it. New signatures always use the current key.
 */
import { timingSafeEqual } from 'node:crypto';

export interface KeyRing {
  /** The key to sign with. */
  current(): Uint8Array;
  /** Every key a signature may verify under: the current one first, then the one it replaced. */
  all(): readonly Uint8Array[];
  /** Makes `key` the current key (the old one stays accepted); false when it already was. */
  adopt(key: Uint8Array): boolean;
}

/** Keys, as the consumers take them: a fixed key (tests, a single node) or a ring. */
export type Keys = Uint8Array | KeyRing;

export function keysOf(keys: Keys): readonly Uint8Array[] {
  return keys instanceof Uint8Array ? [keys] : keys.all();
}

export function currentKey(keys: Keys): Uint8Array {
  return keys instanceof Uint8Array ? keys : keys.current();
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createKeyRing(initial: Uint8Array): KeyRing {
  let current = initial;
  let previous: Uint8Array | undefined;
  return {
    current: () => current,
    all: () => (previous ? [current, previous] : [current]),
    adopt(key) {
      if (sameKey(key, current)) return false;
      previous = current;
      current = key;
      return true;
    },
  };
}
