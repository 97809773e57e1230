/** The tunnel server's JSON answers on reserved paths and the apex: never cached, sized, and never a second head. */
import type { ServerResponse } from 'node:http';

/** `head`: the answer to a HEAD request, its head alone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, head = false): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(head ? undefined : text);
}
