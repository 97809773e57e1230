/**
 * One sign-in in progress, kept by the browser that started it and not by the server: the apex's FLOW_COOKIE holds
 * the flow's `state`, `nonce` and PKCE code verifier with what to do after (session, return path, the session host's
 * binding), sealed with AES-256-GCM under a key derived from the server's access-cookie key (shared by a cluster's
 * nodes, so any node reads what another started). The viewer can neither read the verifier nor change a field; the
 * cookie's expiry is inside the sealed value too. The server thus holds nothing per sign-in started, however many an
 * outsider starts, and the provider's answer is accepted only in the browser that carries the cookie whose `state` it
 * names (sign-in-flow.ts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { currentKey, keysOf, type Keys } from '../keys/key-ring';

/** The apex's cookie binding a sign-in in progress to the browser that started it (path SIGN_IN_PATH). */
export const FLOW_COOKIE = 'wingman_signin_flow';
/** How long a viewer has at the issuer before its sign-in must start over, seconds. */
export const FLOW_MAX_AGE_S = 10 * 60;
/** Longest sealed value read, characters: a return path of 2 048 and the flow's fields. */
const MAX_SEALED_CHARS = 3600;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface FlowState {
  /** The `state` sent to the issuer. */
  state: string;
  nonce: string;
  codeVerifier: string;
  sessionId: string;
  returnPath: string;
  /** The session host's binding (sign-in-binding.ts), carried into the hand-off. */
  bind: string;
  /** Expiry, seconds since the epoch. */
  x: number;
}

export interface FlowSeal {
  seal(flow: Omit<FlowState, 'x'>): string;
  /** The flow sealed in `value` under a current key, unexpired; undefined otherwise. */
  open(value: string | undefined): FlowState | undefined;
}

const derived = new WeakMap<Uint8Array, Buffer>();
function sealKey(key: Uint8Array): Buffer {
  let k = derived.get(key);
  if (!k) derived.set(key, (k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'wingman sign-in flow', 32))));
  return k;
}

const isFlow = (v: unknown): v is FlowState => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['state', 'nonce', 'codeVerifier', 'sessionId', 'returnPath', 'bind'].every((k) => typeof o[k] === 'string') && typeof o.x === 'number';
};

export function createFlowSeal(keys: Keys): FlowSeal {
  return {
    seal(flow) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey(currentKey(keys)), iv);
      const body = Buffer.from(JSON.stringify({ ...flow, x: Math.floor(Date.now() / 1000) + FLOW_MAX_AGE_S }));
      return Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    },
    open(value) {
      if (value === undefined || value.length > MAX_SEALED_CHARS) return undefined;
      const raw = Buffer.from(value, 'base64url');
      if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
      const iv = raw.subarray(0, IV_BYTES);
      const tag = raw.subarray(raw.length - TAG_BYTES);
      const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
      for (const key of keysOf(keys)) {
        let plain: Buffer;
        try {
          const decipher = createDecipheriv('aes-256-gcm', sealKey(key), iv);
          decipher.setAuthTag(tag);
          plain = Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          continue; // sealed under another key (or changed): the next key, if any
        }
        let flow: unknown;
        try {
          flow = JSON.parse(plain.toString('utf8'));
        } catch {
          return undefined;
        }
        return isFlow(flow) && flow.x > Date.now() / 1000 ? flow : undefined;
      }
      return undefined;
    },
  };
}
