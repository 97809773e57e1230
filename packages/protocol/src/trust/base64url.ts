/**
 * base64url without padding (RFC 4648 §5), isomorphic: the link key and the MACs travel in this form. Built on the
 * platform's btoa/atob (Node ≥ 16, pages and workers alike).
 */

export function toBase64url(bytes: Uint8Array): string {
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The bytes of a base64url text, or undefined when it is not one (padding, other characters, a dangling char). */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  // atob drops leftover bits: non-zero ones are not the canonical encoding of any bytes.
  return toBase64url(bytes) === text ? bytes : undefined;
}
