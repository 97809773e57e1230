/**
 * Paths under RESERVED_PREFIX (`/__wingman/`) on session hosts belong to Wingman, never to the developer's app. The
 * server registers its handlers here (the browser bundle, signaling at SIGNAL_PATH, …); unknown paths answer 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Session } from '../sessions/registry';
import { writeRawText } from '../http/raw-response';
import { sendJson } from '../http/json-response';

export interface ReservedContext {
  /** The session id from the Host header (already checked against SESSION_ID_PATTERN). */
  sessionId: string;
  session: Session | undefined;
  /** The admitted viewer's visitor id, on sessions with a viewer gate (viewers/viewer-gate.ts). */
  viewerId?: string;
}

export type ReservedRequestHandler = (req: IncomingMessage, res: ServerResponse, ctx: ReservedContext) => void;
export type ReservedUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ReservedContext) => void;

export interface ReservedRoutesOptions {
  /** Handlers by exact path (query ignored), e.g. `/__wingman/sw.js`. */
  requests?: ReadonlyMap<string, ReservedRequestHandler>;
  /** WebSocket handlers by exact path, e.g. SIGNAL_PATH. */
  upgrades?: ReadonlyMap<string, ReservedUpgradeHandler>;
}

export function pathnameOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!;
}

export function createReservedRoutes({ requests, upgrades }: Required<ReservedRoutesOptions>) {
  return {
    handleRequest(req: IncomingMessage, res: ServerResponse, ctx: ReservedContext): void {
      const handler = requests.get(pathnameOf(req.url));
      if (handler) return handler(req, res, ctx);
      sendJson(res, 404, { error: 'ERR_NOT_FOUND', message: 'no such Wingman endpoint' });
    },
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: ReservedContext): void {
      const handler = upgrades.get(pathnameOf(req.url));
      if (handler) return handler(req, socket, head, ctx);
      writeRawText(socket, 404, 'no such Wingman endpoint');
    },
  };
}
