/**
 * What Wingman itself serves on a session origin: the reserved paths (reserved-routes.ts) with the browser client's
 * bundles, the diagnostics page, the session info and signaling endpoints, the WebSocket tickets and the
 * app's-own-Service-Worker switch; and the shell for a browser's top-level navigation on a P2P session
 * (docs/browser-client.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DIAGNOSTICS_PATH, OWN_SW_PATH, SIGNAL_PATH, WS_TICKET_PATH } from '@wingman/protocol';
import { ASSET_FILES, createBrowserAssets } from '../browser/assets';
import { isBootstrapNavigation } from '../browser/bootstrap';
import { serveDiagnostics } from '../browser/diagnostics-html';
import { serveShell } from '../browser/shell-html';
import { createOwnServiceWorkerHandler } from '../browser/own-service-worker';
import type { TunnelServerConfig } from '../config';
import { createWsTicketHandler } from '../relay/ws-ticket-endpoint';
import { createWsTicketStore } from '../relay/ws-tickets';
import type { Session } from '../sessions/registry';
import { createSessionInfoHandler, createSignalUpgradeHandler, SESSION_INFO_PATH, signalingSession } from '../signaling/signal-endpoint';
import type { SignalingHub } from '../signaling/signaling-hub';
import type { ViewerGate } from '../viewers/viewer-gate';
import { createReservedRoutes, type ReservedRequestHandler, type ReservedRoutesOptions } from './reserved-routes';

interface SessionRoutesOptions {
  config: TunnelServerConfig;
  hub: SignalingHub;
  viewerGate: ViewerGate;
  /** The viewer's address of a request (viewers/viewer-address.ts). */
  viewerAddress: (req: IncomingMessage) => string;
  /** Whether cookies get `Secure` (the public scheme is https). */
  secureCookie: boolean;
  /** More reserved handlers (an embedder's); a path here replaces the built-in one. */
  extra?: ReservedRoutesOptions;
}

export type SessionRoutes = ReturnType<typeof createSessionRoutes>;

export function createSessionRoutes(options: SessionRoutesOptions) {
  const { config, hub } = options;
  const signal = createSignalUpgradeHandler({ config, hub, viewerAddress: options.viewerAddress, viewerGate: options.viewerGate });
  const serveAsset = createBrowserAssets();
  const wsTickets = createWsTicketStore({ maxPerHost: config.limits.wsTicketsPerSession });
  const reserved = createReservedRoutes({
    requests: new Map([
      [SESSION_INFO_PATH, createSessionInfoHandler({ config, hub })],
      ...[...ASSET_FILES.keys()].map((path): [string, ReservedRequestHandler] => [path, serveAsset]),
      [DIAGNOSTICS_PATH, (req, res) => serveDiagnostics(req.method, res)],
      [WS_TICKET_PATH, createWsTicketHandler(wsTickets)],
      [OWN_SW_PATH, createOwnServiceWorkerHandler(options.secureCookie)],
      ...(options.extra?.requests ?? []),
    ]),
    upgrades: new Map([[SIGNAL_PATH, signal.handler], ...(options.extra?.upgrades ?? [])]),
  });
  return {
    reserved,
    /** Serves the shell instead of relaying, for a browser's top-level navigation on a session with P2P on; false to relay. */
    bootstrap(req: IncomingMessage, res: ServerResponse, session: Session, setCookie: string[]): boolean {
      if (!signalingSession(config, session).p2pEnabled() || !isBootstrapNavigation(req)) return false;
      if (setCookie.length > 0) res.setHeader('set-cookie', setCookie);
      serveShell(req, res, { sessionId: session.id, p2p: true, private: session.private === true });
      return true;
    },
    /** The SW's cookies for the shim's relayed WebSockets (relay/ws-tickets.ts), which the WebSocket relay takes. */
    wsTickets,
    close(): void {
      wsTickets.clear();
      signal.close();
    },
  };
}
