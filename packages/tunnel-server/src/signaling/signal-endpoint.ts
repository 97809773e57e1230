/**
 * The viewers' signaling WebSocket (SIGNAL_PATH on a session origin) and the session info endpoint
 * (SESSION_INFO_PATH). Both only ever see the session named by the Host header, so a viewer can signal only that
 * session's agent.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_SIGNAL_MESSAGE_BYTES, SPEED_SWITCHES, type P2PSettings } from '@wingman/protocol';
import { WebSocketServer } from 'ws';
import type { TunnelServerConfig } from '../config';
import { writeRawText } from '../http/raw-response';
import type { ReservedRequestHandler, ReservedUpgradeHandler } from '../routing/reserved-routes';
import { AGENT_TURN_USER, buildIceServers, p2pSettingsFor, turnUser } from '../p2p/ice-config';
import type { Session } from '../sessions/registry';
import type { SignalingHub, SignalingSession } from './signaling-hub';
import { sendJson } from '../http/json-response';
import type { ViewerGate } from '../viewers/viewer-gate';
import { ERR_VIEWER_REFUSED } from '../viewers/viewer-pages';
import { WS_CLOSE_POLICY_VIOLATION } from '../http/ws-data';

/** Session info (JSON) on every session origin: agent presence, effective P2P setting, viewers. */
export const SESSION_INFO_PATH = '/__wingman/session';

/**
 * The effective P2P settings of a session for `holder` (a viewer id): server flag AND the agent's offer, with ICE
 * credentials minted for that holder, and the loss probe and the speed switches when they are off (docs/PROTOCOL.md
 * §Loss probe, docs/speed-ledger.md).
 */
export function sessionP2P(config: TunnelServerConfig, session: Session, holder: string): P2PSettings {
  const settings = p2pSettingsFor(config.p2p, session.agent?.p2p ?? false, turnUser(session.id, holder));
  return {
    ...settings,
    // Sent only when off: absent means on, so viewers that parse the hello strictly see nothing new by default.
    ...(config.p2p.lossProbe ? {} : { lossProbe: false }),
    ...Object.fromEntries(SPEED_SWITCHES.filter((name) => !config.p2p[name]).map((name) => [name, false])),
  };
}

/**
 * Before a viewer's offer reaches the agent, the agent gets fresh TURN credentials (`ice-servers`) once the ones it
 * holds are half their lifetime old: it gathers candidates for each viewer it answers, and an allocation needs
 * credentials that have not expired.
 */
function refreshAgentIce(config: TunnelServerConfig, session: Session): void {
  const agent = session.agent;
  if (!agent || config.p2p.turnUrls.length === 0) return;
  const now = Date.now();
  if (session.agentIceAt !== undefined && now - session.agentIceAt < (config.p2p.turnTtlS * 1000) / 2) return;
  if (agent.sendControl({ type: 'ice-servers', iceServers: buildIceServers(config.p2p, turnUser(session.id, AGENT_TURN_USER), now) })) session.agentIceAt = now;
}

/** `visitorId`: the viewer behind the signaling socket (sessions with a viewer gate); the agent learns it with each signal. */
export function signalingSession(config: TunnelServerConfig, session: Session, visitorId?: string): SignalingSession {
  return {
    id: session.id,
    p2pEnabled: () => config.p2p.enabled && session.agent !== undefined && session.agent.p2p,
    agentAway: () => config.p2p.enabled && session.agent === undefined,
    // Per signaling viewer (one tab); the visitor id, when there is one, names the browser behind it.
    p2pSettings: (viewerId) => sessionP2P(config, session, visitorId === undefined ? viewerId : `${visitorId}.${viewerId}`),
    sendToAgent: (message) => {
      if (message.type === 'signal' && message.message.type === 'offer') refreshAgentIce(config, session);
      return session.agent?.sendControl(message.type === 'signal' && visitorId !== undefined ? { ...message, visitorId } : message) ?? false;
    },
  };
}

export function createSignalUpgradeHandler(options: {
  config: TunnelServerConfig;
  hub: SignalingHub;
  viewerAddress: (req: IncomingMessage) => string;
  viewerGate: ViewerGate;
}): { handler: ReservedUpgradeHandler; close(): void } {
  // ws closes with 1009 above maxPayload; between the hub's limit and this one the hub answers a coded JSON error first.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * MAX_SIGNAL_MESSAGE_BYTES, perMessageDeflate: false });
  return {
    handler(req, socket, head, ctx) {
      const session = ctx.session;
      if (!session) return writeRawText(socket, 404, `No Wingman session ${ctx.sessionId} here`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        options.hub.acceptViewer(ws, signalingSession(options.config, session, ctx.viewerId), options.viewerAddress(req));
        // A refused viewer's signaling ends with it (the agent closes its P2P channels).
        if (ctx.viewerId === undefined) return;
        const release = options.viewerGate.hold(session, ctx.viewerId, () => ws.close(WS_CLOSE_POLICY_VIOLATION, ERR_VIEWER_REFUSED));
        ws.once('close', release);
      });
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

export function createSessionInfoHandler(options: { config: TunnelServerConfig; hub: SignalingHub }): ReservedRequestHandler {
  return (_req, res, ctx) => {
    const s = ctx.session;
    if (!s) return sendJson(res, 404, { error: 'ERR_UNKNOWN_SESSION', message: `no session ${ctx.sessionId}` });
    sendJson(res, 200, {
      sessionId: s.id,
      agentConnected: s.agent !== undefined,
      p2p: {
        enabled: options.config.p2p.enabled && (s.agent?.p2p ?? false),
        timeoutMs: options.config.p2p.timeoutMs,
        serverEnabled: options.config.p2p.enabled,
        agentOffered: s.agent?.p2p ?? false,
      },
      viewers: options.hub.viewerCount(s.id),
      // Who is asking, as the session's viewer gate knows it (its cookie): the id the developer sees.
      ...(ctx.viewerId !== undefined ? { viewer: ctx.viewerId } : {}),
    });
  };
}
