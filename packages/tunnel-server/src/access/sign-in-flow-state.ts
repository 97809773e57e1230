/**
 * One sign-in in progress, kept by the browser and not by the server: the apex's FLOW_COOKIE holds `state`, `nonce`, the
 * PKCE verifier and where to go after, sealed with AES-256-GCM (key derived from the access-cookie key, so any node of
 * a cluster reads it; expiry inside). The server holds nothing per sign-in however many an outsider starts, and the
 * provider's answer is accepted only in the browser whose cookie names its `state`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { currentKey, keysOf, type Keys } from '../keys/key-ring';
import { parseJson } from '../http/parse-json';

/** The apex's cookie binding a sign-in in progress to the browser that started it (path SIGN_IN_PATH). */
export const FLOW_COOKIE = 'wingman_signin_flow';
/** How long a viewer has at the issuer before its sign-in must start over, seconds. */
export const FLOW_MAX_AGE_S = 10 * 60;
/** Longest sealed value read, characters: a return path of 2 048 and the flow's fields. */
const MAX_SEALED_CHARS = 3600;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const flowSchema = z.object({
  state: z.string(),
  nonce: z.string(),
  codeVerifier: z.string(),
  sessionId: z.string(),
  returnPath: z.string(),
  /** The session host's binding (sign-in-binding.ts), carried into the hand-off. */
  bind: z.string(),
  /** Expiry, seconds since the epoch. */
  x: z.number(),
});

export type FlowState = z.infer<typeof flowSchema>;

export type FlowSeal = ReturnType<typeof createFlowSeal>;

const derived = new WeakMap<Uint8Array, Buffer>();
function sealKey(key: Uint8Array): Buffer {
  let k = derived.get(key);
  if (!k) derived.set(key, (k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'wingman sign-in flow', 32))));
  return k;
}

export function createFlowSeal(keys: Keys) {
  return {
    seal(flow: Omit<FlowState, 'x'>): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey(currentKey(keys)), iv);
      const body = Buffer.from(JSON.stringify({ ...flow, x: Math.floor(Date.now() / 1000) + FLOW_MAX_AGE_S }));
      return Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    },
    /** The flow sealed in `value` under a current key, unexpired; undefined otherwise. */
    open(value: string | undefined): FlowState | undefined {
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
        const flow = parseJson(flowSchema, plain.toString('utf8'));
        return flow && flow.x > Date.now() / 1000 ? flow : undefined;
      }
      return undefined;
    },
  };
}
