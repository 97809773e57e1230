/**
 * A whole HTTP/1.1 response written straight to a socket, for upgrade requests that end without an upgrade (refused
 * token, unknown session, a WebSocket the local app declined). Node's ServerResponse does not exist on that path.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a socket may stay open after a raw response, waiting for the client to close first. */
const RAW_RESPONSE_LINGER_MS = 1_000;

type RawHeaders = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * Writes status line, headers (a flat [name, value, …] list, as res.writeHead takes), `content-length`,
 * `connection: close` and body, then closes the socket. Header values must be CR/LF-free (callers pass validated values).
 */
export function writeRawResponse(socket: Duplex, status: number, headers: readonly string[], body: string | Uint8Array = ''): void {
  // A destroyed socket is not writable either; destroy() then does nothing.
  if (!socket.writable) return void socket.destroy();
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += `content-length: ${payload.length}\r\nconnection: close\r\n\r\n`;
  // Closing at once could reset the connection before the client read the response (an RST discards its receive
  // buffer); give it a moment, bounded, so a client that never closes its side cannot hold the socket.
  const linger = setTimeout(() => socket.destroy(), RAW_RESPONSE_LINGER_MS);
  socket.once('close', () => clearTimeout(linger));
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
}

export function writeRawText(socket: Duplex, status: number, text: string, headers: RawHeaders = []): void {
  writeRawResponse(socket, status, ['content-type', 'text/plain; charset=utf-8', ...headers.flat()], `${text}\n`);
}
