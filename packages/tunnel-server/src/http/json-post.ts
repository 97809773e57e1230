/**
 * A JSON POST to a reserved endpoint (the Service Worker's WebSocket tickets): POST only, on an existing session,
 * `application/json` only (so a page of another site cannot send one without a CORS preflight, which the reserved
 * endpoints never grant), and the body read whole, bounded in size and in time, so a client that sends too much or
 * stalls gets its answer and holds nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReservedContext } from '../routing/reserved-routes';
import type { Session } from '../sessions/registry';
import { closeAfterResponse } from './http2-compat';
import { sendJson } from './json-response';

/** Longest wait for a request body, ms. The shell and the SW send a few KiB at once; this only cuts a client that stalls. */
const BODY_TIMEOUT_MS = 5_000;

/** Reads the whole body up to `max` bytes; undefined when it is larger, stalls or errors (the response is then sent). */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | undefined, status?: number, error?: string, message?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (status !== undefined) {
        // The rest of the body is discarded and the connection closed after the answer (Node ends it on `connection: close`).
        closeAfterResponse(res);
        sendJson(res, status, { error: error!, message: message! });
        req.resume();
      }
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined, 408, 'ERR_TIMEOUT', 'request body too slow'), BODY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return finish(undefined, 413, 'ERR_TOO_LARGE', `body over ${max} bytes`);
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => finish(undefined));
    req.once('close', () => finish(undefined));
  });
}

/** The session and the body of a JSON POST, or undefined when the request is not one (the refusal is then sent: 405, 404, 415, 413, 408). */
export async function readJsonPost(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ReservedContext,
  max: number,
): Promise<{ session: Session; text: string } | undefined> {
  const fail = (status: number, error: string, message: string) => void sendJson(res, status, { error, message });
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return fail(405, 'ERR_METHOD', 'POST only');
  }
  const session = ctx.session;
  if (!session) return fail(404, 'ERR_UNKNOWN_SESSION', `no session ${ctx.sessionId}`);
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return fail(415, 'ERR_CONTENT_TYPE', 'application/json required');
  const text = await readBody(req, res, max);
  return text === undefined ? undefined : { session, text };
}
