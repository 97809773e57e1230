/**
 * Dispatch of every HTTP request and upgrade by Host header: session hosts
 * go to the relay (or to Wingman's reserved paths), everything else to the
 * apex app and the agent endpoint. Never throws: an unexpected error becomes
 * a 500 for that one request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_PATH, RESERVED_PREFIX, SESSION_ID_PATTERN } from '@wingman/protocol';
import type { Express } from 'express';
import type { Logger } from '../logger';
import { relayHttp, type HttpRelayContext } from '../relay/http-relay';
import type { WsRelay } from '../relay/ws-relay';
import type { AgentEndpoint } from '../sessions/agent-endpoint';
import type { Session, SessionRegistry } from '../sessions/registry';
import type { HostRouter } from './host-route';
import { agentGonePage, RETRY_AFTER_S, sendPage, unknownSessionPage } from './pages';
import { writeRawText } from './raw-response';
import { pathnameOf, type ReservedRoutes } from './reserved-routes';

export interface RouterOptions {
  hostRouter: HostRouter;
  registry: SessionRegistry;
  apexApp: Express;
  reserved: ReservedRoutes;
  agentEndpoint: AgentEndpoint;
  httpRelay: HttpRelayContext;
  wsRelay: WsRelay;
  logger: Logger;
  /**
   * Serves the browser client's shell instead of relaying, for a browser's
   * top-level navigation on a session with P2P on; returns false to relay.
   */
  bootstrap?: (req: IncomingMessage, res: ServerResponse, session: Session) => boolean;
}

export interface Router {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Labels are echoed in pages; a DNS label is at most 63 characters. */
function shortLabel(label: string): string {
  return label.length > 63 ? `${label.slice(0, 60)}...` : label;
}

export function createRouter(options: RouterOptions): Router {
  const { hostRouter, registry, reserved, logger } = options;

  function request(req: IncomingMessage, res: ServerResponse): void {
    const route = hostRouter.route(req.headers.host);
    if (route.kind === 'apex') {
      options.apexApp(req, res);
      return;
    }
    const id = route.label;
    if (!SESSION_ID_PATTERN.test(id)) return sendPage(res, unknownSessionPage(shortLabel(id)));
    if (pathnameOf(req.url).startsWith(RESERVED_PREFIX)) {
      return reserved.handleRequest(req, res, { sessionId: id, session: registry.get(id) });
    }
    const session = registry.get(id);
    if (!session) return sendPage(res, unknownSessionPage(id));
    if (!session.agent) return sendPage(res, agentGonePage(id));
    if (options.bootstrap?.(req, res, session)) return;
    relayHttp(session.agent.connection, req, res, options.httpRelay);
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = hostRouter.route(req.headers.host);
    if (route.kind === 'apex') {
      if (pathnameOf(req.url) === AGENT_PATH) return options.agentEndpoint.handleUpgrade(req, socket, head);
      return writeRawText(socket, 404, 'Not found');
    }
    const id = route.label;
    if (!SESSION_ID_PATTERN.test(id)) return writeRawText(socket, 404, `No Wingman session ${shortLabel(id)} here`);
    if (pathnameOf(req.url).startsWith(RESERVED_PREFIX)) {
      return reserved.handleUpgrade(req, socket, head, { sessionId: id, session: registry.get(id) });
    }
    const session = registry.get(id);
    if (!session) return writeRawText(socket, 404, `No Wingman session ${id} here`);
    if (!session.agent) {
      return writeRawText(socket, 502, `The Wingman agent of session ${id} is reconnecting`, [['retry-after', String(RETRY_AFTER_S)]]);
    }
    options.wsRelay.relay(session.agent.connection, req, socket, head);
  }

  return {
    handleRequest(req, res) {
      try {
        request(req, res);
      } catch (err) {
        logger.error({ err, url: req.url }, 'request handling failed');
        if (!res.headersSent) sendPage(res, { status: 500, title: 'Internal error', message: 'The Wingman server failed on this request.', code: 'ERR_INTERNAL' });
        else res.destroy();
      }
    },
    handleUpgrade(req, socket, head) {
      // An upgrade socket has no error listener until ws takes it; a reset must not crash the server.
      socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
      try {
        upgrade(req, socket, head);
      } catch (err) {
        logger.error({ err, url: req.url }, 'upgrade handling failed');
        writeRawText(socket, 500, 'Internal error');
      }
    },
  };
}
