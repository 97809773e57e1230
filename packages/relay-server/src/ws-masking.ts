/**
 * WebSocket client masking (RFC 6455 §10.3) protects intermediaries that can
 * read the bytes, so none over wss: or loopback: there an all-zero mask, which
 * `ws` skips. Masking was ~40 % of the agent's busy time in a relayed download
 * without bufferutil.
 * @see https://github.com/websockets/ws/blob/master/doc/ws.md (option generateMask)
 */
import { isLoopbackHost } from './loopback-host';

/** `ws` client options for a connection to `url`: a zero mask when masking protects nothing. */
export function maskingOptions(url: URL | string): { generateMask?: (mask: Buffer) => void } {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'wss:' || isLoopbackHost(u.hostname) ? { generateMask: (mask) => mask.fill(0) } : {};
}
