/**
 * A registered agent: its WebSocket becomes a protocol Connection (binary messages = frames, text = control JSON) on
 * which the relay opens streams. Owns the heartbeat and the control messages that follow registration, and puts the
 * session into its grace period when the connection ends. A misbehaving agent only ever closes its own connection.
 */
import {
  connectionOverWebSocket,
  CONTROL_ERROR_CODES,
  isCodeOf,
  parseAgentMessage,
  ProtocolError,
  startHeartbeat,
  type ControlErrorCode,
  type ErrorMessage,
} from '@wingman/protocol';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger';
import type { TunnelServerConfig } from '../config';
import type { SignalingHub } from '../signaling/signaling-hub';
import type { ViewerGate } from '../viewers/viewer-gate';
import type { AgentLink, Session, SessionRegistry } from '../sessions/registry';

/**
 * Timed-out PINGs in a row (each with nothing moving on the connection) after which the agent is dropped. One: the
 * timeout already allows for a slow path (DEFAULT_HEARTBEAT_TIMEOUT_MS), a busy one shows as bytes moving, and a dead
 * agent should lose its socket soon enough to resume within the grace period.
 */
const AGENT_HEARTBEAT_MAX_MISSED = 1;

/** What an agent link uses of the server's parts (agent-register.ts passes its own). */
export interface AgentLinkDeps {
  registry: SessionRegistry;
  config: TunnelServerConfig;
  logger: Logger;
  hub: SignalingHub;
  /** Applies the agent's viewer decisions (sessions registered with `viewers`). */
  viewerGate: ViewerGate;
}

interface AgentLinkOptions {
  /** The session to re-attach (a resume within grace); a new session is created when undefined. */
  resume: Session | undefined;
  remoteAddress: string;
  /** The agent offered P2P in its `register`. */
  p2p: boolean;
  /** A session another node of the cluster held, resumed here (cluster/cluster-node.ts). */
  adopt?: { sessionId: string; resumeSecret: string } | undefined;
  /** The deadline of a new session (`wingman http --expires`), bound into its resume secret. */
  expiresAt?: number | undefined;
}

/** Builds the relay connection over `ws` and attaches it to a session. Synchronous (see agent-endpoint). */
export function attachAgentLink(ws: WebSocket, deps: AgentLinkDeps, options: AgentLinkOptions): { session: Session; link: AgentLink } {
  const { registry, logger, config, hub } = deps;
  // The tunnel server opens streams (odd ids); the agent answers them. Its WebSocket messages to viewers are capped (beyond: ERR_MESSAGE_TOO_LARGE).
  const connection = connectionOverWebSocket(ws, { role: 'client', onText: (text) => onControl(text), maxWsMessageBytes: config.wsMaxMessageBytes });
  const link: AgentLink = {
    connection,
    close: (code, reason) => connection.close(code, reason),
    p2p: options.p2p,
    sendControl: (message) => {
      if (ws.readyState !== ws.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
  };
  const { resume, adopt } = options;
  if (resume) registry.attach(resume, link);
  const session = resume ?? (adopt ? registry.adopt(adopt.sessionId, adopt.resumeSecret, link) : registry.create(link, options.expiresAt));
  const log = logger.child({ sessionId: session.id });

  const fail = (code: ControlErrorCode, message: string) => {
    log.warn({ code, reason: message }, 'closing agent: bad control message');
    sendControlError(ws, code, message);
    connection.close('ERR_PROTOCOL', message);
  };

  function onControl(text: string): void {
    const message = parseControl(text, fail);
    if (!message) return;
    switch (message.type) {
      case 'register':
        return fail('ERR_PROTOCOL', 'already registered');
      case 'signal':
        return hub.fromAgent(session.id, message.viewerId, message.message);
      case 'peer-report':
        log.debug({ viewerId: message.viewerId, state: message.state, reason: message.reason, connectMs: message.connectMs }, 'peer report');
        return hub.peerReport(message);
      case 'viewer-decision':
        log.info({ decision: message.decision, viewer: message.id }, 'viewer decision');
        return deps.viewerGate.decide(session, message);
    }
  }

  // Liveness: a PONG that does not come back in time means the agent (or the path to it) is dead, even when TCP has
  // not noticed yet (a laptop that went to sleep, a dropped NAT binding).
  const stopHeartbeat = startHeartbeat(connection, {
    intervalMs: config.heartbeatIntervalMs,
    timeoutMs: config.heartbeatTimeoutMs,
    maxMissed: AGENT_HEARTBEAT_MAX_MISSED,
    bufferedAmount: () => ws.bufferedAmount,
    onDead: (error) => {
      log.warn({ code: error.code }, 'agent missed a heartbeat; closing its connection');
      ws.terminate();
    },
  });

  connection.on('error', (error) => log.warn({ code: error.code, reason: error.message }, 'agent connection error'));
  connection.on('close', (error) => {
    stopHeartbeat();
    registry.detach(session, link);
    hub.agentGone(session.id);
    log.info({ code: error?.code, reason: error?.message, remoteAddress: options.remoteAddress }, 'agent disconnected');
    // The close handshake may not finish (a dead peer); ws cuts the socket after its own timeout.
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
  return { session, link };
}

/** An agent's control message; a bad one goes to `refuse` with its error code, and undefined is returned. */
export function parseControl(text: string, refuse: (code: ControlErrorCode, message: string) => void): ReturnType<typeof parseAgentMessage> | undefined {
  try {
    return parseAgentMessage(text);
  } catch (err) {
    refuse(err instanceof ProtocolError && isCodeOf(CONTROL_ERROR_CODES, err.code) ? err.code : 'ERR_INVALID_PAYLOAD', (err as Error).message);
    return undefined;
  }
}

/** Sends `{type:'error'}` if the socket is open. Never throws. */
export function sendControlError(ws: WebSocket, code: ControlErrorCode, message: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(JSON.stringify({ type: 'error', code, message: message.slice(0, 1024) } satisfies ErrorMessage));
}
