/**
 * WebSocket client masking (RFC 6455 §5.3) protects intermediaries that do
 * not understand WebSocket from payloads crafted to look like HTTP (cache
 * poisoning, §10.3). It protects nothing where no intermediary can read the
 * bytes: over TLS (wss:) or on loopback. There the agent uses an all-zero mask,
 * which `ws` recognizes and skips (no XOR pass over every byte, no copy):
 * masking was the largest CPU cost of a relayed download in a profile
 * (~40 % of the agent's busy time without the native bufferutil addon).
 * @see https://www.rfc-editor.org/rfc/rfc6455#section-10.3
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md (option generateMask)
 */

const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** `ws` client options for a connection to `url`: a zero mask when masking protects nothing. */
export function maskingOptions(url: URL | string): { generateMask?: (mask: Buffer) => void } {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'wss:' || LOOPBACK_HOST.test(u.hostname) ? { generateMask: zeroMask } : {};
}
