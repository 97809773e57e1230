/**
 * SHELL_PATH: the shell document for the Service Worker's own copy
 * (browser-client sw/navigation.ts), which answers the session's later
 * top-level navigations without a round trip here. Reached like every
 * reserved path, after the session's access and viewer gates: a viewer who
 * may not see the session gets their refusal, never a shell. 404 when the
 * session does not offer P2P now (the SW then forgets its copy).
 */
import type { Session } from '../sessions/registry';
import { sendJson } from '../http/json-response';
import type { ReservedRequestHandler } from '../routing/reserved-routes';
import { serveShell } from './shell-html';

export function createShellCopyRoute(p2pEnabled: (session: Session) => boolean): ReservedRequestHandler {
  return (req, res, ctx) => {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const { session } = ctx;
    if (!session?.agent || !p2pEnabled(session)) return sendJson(res, 404, { error: 'ERR_NOT_FOUND', message: 'this session serves no shell' });
    serveShell(req, res, { sessionId: session.id, p2p: true, private: session.private === true });
  };
}
