/**
 * The slice of WebCrypto (`crypto.subtle`) the link key's checks use. Node
 * ≥ 19 (`globalThis.crypto`), browsers and workers all have it; typed here
 * because the protocol package compiles against neither the DOM nor
 * @types/node.
 */

/** An opaque key of the platform's WebCrypto. */
export type CryptoKeyLike = object;

interface SubtleLike {
  importKey(format: 'raw', key: Uint8Array, algorithm: unknown, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  deriveKey(algorithm: unknown, base: CryptoKeyLike, derived: unknown, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  sign(algorithm: 'HMAC', key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: 'HMAC', key: CryptoKeyLike, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

interface CryptoLike {
  subtle?: SubtleLike;
  getRandomValues<T extends Uint8Array>(a: T): T;
}

/** The platform's WebCrypto; throws where there is none (a browser page outside a secure context). */
export function webCrypto(): Required<CryptoLike> {
  const c = (globalThis as unknown as { crypto?: CryptoLike }).crypto;
  if (!c?.subtle) throw new Error('WebCrypto (crypto.subtle) is not available here');
  return c as Required<CryptoLike>;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** HKDF-SHA-256 of `ikm` into an HMAC-SHA-256 key that can sign and verify. */
export async function hkdfHmacKey(ikm: Uint8Array, salt: string, info: string): Promise<CryptoKeyLike> {
  const { subtle } = webCrypto();
  const base = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: utf8(salt), info: utf8(info) }, base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, [
    'sign',
    'verify',
  ]);
}
