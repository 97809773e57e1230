/**
 * The head of a WebSocket handshake to the app, as an HTTP request's: a
 * repeated field goes as repeated lines, and the inspector shows what `ws`
 * wrote, its own fields included.
 */
import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import type { HeaderList } from '@wingman/protocol';

/** A header list as Node's request options take it: a repeated name as an array, which Node writes one line per value (Cookie joined with "; "). */
export function toOutgoingHeaders(headers: HeaderList): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of headers) {
    const prev = out[name];
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

/** The head `req` writes (names lower-cased), in its order: the caller's fields and the client's own (Sec-WebSocket-Key, -Version, Upgrade, Connection). */
export function writtenHead(req: ClientRequest): HeaderList {
  const out: HeaderList = [];
  for (const raw of req.getRawHeaderNames()) {
    const name = raw.toLowerCase();
    const value = req.getHeader(name);
    if (value === undefined) continue;
    if (!Array.isArray(value)) out.push([name, String(value)]);
    // Node writes a repeated Cookie as one line, joined with "; ".
    else if (name === 'cookie' && value.length > 1) out.push([name, value.join('; ')]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}
