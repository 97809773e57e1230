/**
 * The agents' WebSocket endpoint (AGENT_PATH on the apex host): token check
 * before the upgrade (so the agent can print the 401 body), then the
 * `register` → `registered` handshake, then hand-over to an agent link that
 * carries protocol frames. Protocol: docs/PROTOCOL.md §Agent control channel.
 */
import type { LinkAccessGate } from '../access/link-access';
import type { ViewerAccessGate } from '../access/viewer-access';
import type { AddressHolds } from '../access/address-holds';
import { compileAddressRules } from '../access/address-rules';
import type { ClusterNode } from '../cluster/cluster-node';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  accessLabelOf,
  CONTROL_ERROR_CODES,
  isCodeOf,
  MAX_CONTROL_MESSAGE_BYTES,
  parseAgentMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  sessionNameProblem,
  WEBSOCKET_ACCEPT_MESSAGE_BYTES,
  type ControlErrorCode,
  type RegisterMessage,
  type RegisteredMessage,
} from '@wingman/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TunnelServerConfig } from '../config';
import { clientAddress } from '../http/client-address';
import { writeRawText } from '../http/raw-response';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { AGENT_TURN_USER, p2pSettingsFor, turnUser } from '../p2p/ice-config';
import { attachAgentLink, sendControlError } from './agent-link';
import { rawDataToBuffer } from '../http/ws-data';
import type { SessionRegistry } from '../sessions/registry';
import type { SessionIds } from '../sessions/session-key';
import { createResumeSecret, deadlineOf } from '../sessions/session-id';
import { ownerOf, type NameStore } from '../sessions/session-names';
import type { TokenCheck } from '../sessions/token-check';
import { ERR_TOO_MANY_SESSIONS, type TokenSessions } from '../sessions/token-sessions';
import type { PasswordThrottle } from '../access/password-throttle';
import type { SignalingHub } from '../signaling/signaling-hub';
import type { ViewerGate } from '../viewers/viewer-gate';

/** Time an agent has, after the upgrade, to send `register`. */
export const REGISTER_TIMEOUT_MS = 10_000;
/** Largest message an agent may send: a frame batch (WEBSOCKET_ACCEPT_MESSAGE_BYTES, 256 KiB) or a control message (64 KiB). */
export const AGENT_MAX_MESSAGE_BYTES = Math.max(WEBSOCKET_ACCEPT_MESSAGE_BYTES, MAX_CONTROL_MESSAGE_BYTES);
/** How long close() waits for agents to finish the close handshake before cutting them off. */
export const AGENT_CLOSE_TIMEOUT_MS = 2_000;
/** WebSocket close code for a refused registration (RFC 6455 §7.4.1: policy violation). */
const WS_POLICY_VIOLATION = 1008;

export interface AgentEndpointOptions {
  registry: SessionRegistry;
  tokenCheck: TokenCheck;
  config: TunnelServerConfig;
  logger: Logger;
  metrics: Metrics;
  /** Public URL of a session, e.g. `http://<id>.localhost:8080/`. */
  sessionUrl: (sessionId: string) => string;
  hub: SignalingHub;
  /** Makes the access state of sessions whose agent registers with a viewer password. */
  accessGate: ViewerAccessGate;
  /** Makes the link state of sessions whose agent registers a link verifier (access/link-access.ts). */
  linkGate: LinkAccessGate;
  /** How session ids bind to resume secrets: an agent whose session this server lost claims its id back. */
  sessionIds: SessionIds;
  /** Set when the server is a node of a cluster (REDIS_URL): agents may resume sessions other nodes held. */
  cluster?: ClusterNode;
  /** Viewer identity and approval for agents that register with `viewers` (viewers/viewer-gate.ts). */
  viewerGate: ViewerGate;
  /** Sessions per token (sessions/token-sessions.ts); the server removes sessions as they expire. */
  tokenSessions: TokenSessions;
  /** Who holds which stable session name (sessions/session-names.ts). */
  names: NameStore;
  /** Failed authentications per source (access/password-throttle.ts, used per agent source address). */
  authThrottle: PasswordThrottle;
  /** The source address of a request (trusted proxies): what the auth throttle counts by. Default: the socket's peer. */
  sourceAddress?: (req: IncomingMessage) => string;
  /** Viewers' upgraded sockets by address (access/address-holds.ts): a register's new rules close those they refuse. */
  addressHolds?: AddressHolds;
}

/** Stable code of an agent upgrade refused because its source sent too many wrong tokens (429). */
export const ERR_AUTH_THROTTLED = 'ERR_AUTH_THROTTLED';

export interface AgentEndpoint {
  /** Handles an upgrade request for AGENT_PATH. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Sends GOAWAY to every agent and waits (bounded) for their sockets to close. */
  close(): Promise<void>;
}

export function createAgentEndpoint(options: AgentEndpointOptions): AgentEndpoint {
  const { registry, logger, metrics, config } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: AGENT_MAX_MESSAGE_BYTES, perMessageDeflate: false });
  /** Every agent socket with the function that closes it politely. */
  const sockets = new Map<WebSocket, () => void>();

  function onSocket(ws: WebSocket, remoteAddress: string, token: string): void {
    sockets.set(ws, () => ws.close(1001, 'server shutting down'));
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', (err) => logger.debug({ err, remoteAddress }, 'agent socket error'));

    const refuse = (code: ControlErrorCode, message: string) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      metrics.agentConnections.inc({ outcome: 'failed' });
      logger.info({ remoteAddress, code, reason: message }, 'agent registration refused');
      sendControlError(ws, code, message);
      ws.close(WS_POLICY_VIOLATION, code);
    };
    const timer = setTimeout(() => refuse('ERR_TIMEOUT', `no register message within ${REGISTER_TIMEOUT_MS} ms`), REGISTER_TIMEOUT_MS);
    ws.once('close', () => clearTimeout(timer));

    const onMessage = (data: RawData, isBinary: boolean) => {
      if (isBinary) return refuse('ERR_PROTOCOL', 'expected a register message before any frame');
      let message;
      try {
        message = parseAgentMessage(rawDataToBuffer(data).toString('utf8'));
      } catch (err) {
        return refuse(err instanceof ProtocolError && isCodeOf(CONTROL_ERROR_CODES, err.code) ? err.code : 'ERR_INVALID_PAYLOAD', (err as Error).message);
      }
      if (message.type !== 'register') return refuse('ERR_PROTOCOL', `expected register, got ${message.type}`);
      if (message.version !== PROTOCOL_VERSION) {
        return refuse('ERR_UNSUPPORTED_VERSION', `agent speaks protocol version ${message.version}, this server ${PROTOCOL_VERSION}; update one of them`);
      }
      // Registration is synchronous from here on: a frame the agent pipelines
      // right behind `register` must find the connection's listener in place.
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (message.name !== undefined) return registerNamed(ws, message, message.name, remoteAddress, token, refuse);
      const { resume } = message;
      const deadline = resume && deadlineOf(resume.resumeSecret);
      if (resume && ((deadline !== undefined && deadline <= Date.now()) || registry.ended(resume.sessionId))) {
        // Its deadline passed (bound into the secret, so on every node and after any restart): never bring the link back.
        return refuse('ERR_SESSION_EXPIRED', `session ${resume.sessionId} reached its expiry`);
      }
      if (resume && deadline === undefined && message.expiresInMs !== undefined) {
        // A deadline lives only in a new session's secret (any node, any restart reads it there): asking for one gets a new session.
        return register(ws, { ...message, resume: undefined }, remoteAddress, token, refuse);
      }
      if (!resume || registry.findForResume(resume.sessionId, resume.resumeSecret).kind !== 'unknown') {
        return register(ws, message, remoteAddress, token, refuse);
      }
      // Not held here. Its id bound to the secret (a session of this server
      // before a restart, session-key.ts): the agent claims it back.
      const bound = options.sessionIds.owns(resume.sessionId, resume.resumeSecret);
      if (!options.cluster) return register(ws, message, remoteAddress, token, refuse, bound);
      // A cluster: another node may hold it. An agent sends nothing before
      // `registered`, so nothing can arrive while we ask.
      const early = () => refuse('ERR_PROTOCOL', 'message before registered');
      ws.once('message', early);
      options.cluster.remoteResume(resume.sessionId, resume.resumeSecret, bound).then(
        (r) => {
          ws.off('message', early);
          if (ws.readyState !== ws.OPEN) return;
          if (r.kind === 'busy') return refuse('ERR_SESSION_IN_USE', `session ${resume.sessionId} already has a connected agent (on another node)`);
          register(ws, message, remoteAddress, token, refuse, r.kind === 'adopt');
        },
        (err: unknown) => {
          ws.off('message', early);
          logger.warn({ err, sessionId: resume.sessionId }, 'session directory unavailable: resuming as a new session');
          if (ws.readyState === ws.OPEN) register(ws, { ...message, resume: undefined }, remoteAddress, token, refuse);
        },
      );
    };
    ws.on('message', onMessage);
  }

  /**
   * A register with a stable name: the token must hold the name (claimed
   * now if no token does, session-names.ts); then the session of that name
   * is resumed here (in its grace period), taken over from another node, or
   * created, and refused while another agent serves it.
   */
  function registerNamed(
    ws: WebSocket,
    message: RegisterMessage,
    name: string,
    remoteAddress: string,
    token: string,
    refuse: (code: ControlErrorCode, msg: string) => void,
  ): void {
    const problem = sessionNameProblem(name);
    if (problem) return refuse('ERR_NAME_INVALID', problem);
    // Nothing may arrive before `registered` while the name and the directory are asked.
    const early = () => refuse('ERR_PROTOCOL', 'message before registered');
    ws.once('message', early);
    const settle = async (): Promise<void> => {
      const claim = await options.names.claim(name, ownerOf(token));
      if (ws.readyState !== ws.OPEN) return;
      if (claim.kind === 'taken') return refuse('ERR_NAME_TAKEN', `the name "${name}" belongs to another agent token on this server; choose another --name`);
      if (claim.kind === 'limit')
        return refuse(
          'ERR_NAME_LIMIT',
          `this agent token holds the name "${claim.held}", which a session uses now: a token holds one name; stop that tunnel first, or use --name ${claim.held}`,
        );
      const held = options.cluster && !registry.get(name) ? await options.cluster.namedResume(name) : { kind: 'adopt' as const, existed: false };
      if (ws.readyState !== ws.OPEN) return;
      if (held.kind === 'busy') return refuse('ERR_SESSION_IN_USE', `the name "${name}" already has a connected agent (on another node)`);
      // From here on synchronous: the registry cannot change under the decision.
      ws.off('message', early);
      const local = registry.get(name);
      if (local?.agent) return refuse('ERR_SESSION_IN_USE', `the name "${name}" already has a connected agent`);
      if (local) return register(ws, { ...message, resume: { sessionId: name, resumeSecret: local.resumeSecret } }, remoteAddress, token, refuse);
      // The session of this name, new or taken over, with a secret of its own: the name and the token find it, not the secret.
      register(ws, { ...message, resume: { sessionId: name, resumeSecret: createResumeSecret() } }, remoteAddress, token, refuse, true, !held.existed);
    };
    settle().then(
      () => ws.off('message', early),
      (err: unknown) => {
        ws.off('message', early);
        logger.warn({ err, name }, 'session names unavailable: refusing a named session');
        refuse('ERR_INTERNAL', `the server cannot check the name "${name}" now (its session directory does not answer); try again`);
      },
    );
  }

  /**
   * `adopt`: the agent may take the session over — from another node (the
   * directory allowed it), or back after this server lost it (its id is bound to the secret).
   */
  function register(
    ws: WebSocket,
    message: RegisterMessage,
    remoteAddress: string,
    token: string,
    refuse: (code: ControlErrorCode, msg: string) => void,
    adopt = false,
    adoptsNew = false,
  ): void {
    // Read before anything changes: a register whose rules cannot be applied is refused whole.
    const addressRules = message.addressRules ? compileAddressRules(message.addressRules) : undefined;
    if (addressRules && 'problem' in addressRules) return refuse('ERR_INVALID_PAYLOAD', addressRules.problem);
    const found = message.resume ? registry.findForResume(message.resume.sessionId, message.resume.resumeSecret) : undefined;
    if (found?.kind === 'busy') {
      return refuse('ERR_SESSION_IN_USE', `session ${message.resume!.sessionId} already has a connected agent`);
    }
    const resumable = found?.kind === 'resumable' ? found.session : undefined;
    const adopted = adopt && !resumable && message.resume && !registry.get(message.resume.sessionId) ? message.resume : undefined;
    // A resumed session is already counted; a new (or adopted) one needs room under the token's quota.
    if (!resumable && options.tokenSessions.full(token)) {
      return refuse(
        ERR_TOO_MANY_SESSIONS,
        `this agent token holds ${config.limits.sessionsPerToken} sessions already (MAX_SESSIONS_PER_TOKEN); stop one, or wait for disconnected ones to expire`,
      );
    }
    const newDeadline = !resumable && !adopted && message.expiresInMs !== undefined ? Date.now() + message.expiresInMs : undefined;
    const { session, link } = attachAgentLink(ws, {
      registry,
      resume: resumable,
      ...(adopted ? { adopt: adopted } : {}),
      ...(newDeadline !== undefined ? { expiresAt: newDeadline } : {}),
      remoteAddress,
      logger,
      metrics,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      wsMaxMessageBytes: config.wsMaxMessageBytes,
      p2p: message.p2p,
      hub: options.hub,
      viewerGate: options.viewerGate,
    });
    sockets.set(ws, () => link.close('ERR_GOING_AWAY', 'server shutting down'));
    options.tokenSessions.add(token, session);
    // The latest register decides: a restarted `wingman` may add, change or drop the password.
    session.access = message.viewerPassword !== undefined ? options.accessGate.create(session.id, message.viewerPassword) : undefined;
    session.addressRules = addressRules;
    const cut = options.addressHolds?.enforce(session) ?? 0;
    if (cut > 0) logger.info({ sessionId: session.id, sockets: cut }, 'address rules closed sockets of viewers they refuse');
    // A session keeps the deadline bound into its secret, new, resumed or adopted (another node, a restart):
    // reconnecting never extends it nor drops it.
    const deadline = deadlineOf(session.resumeSecret);
    if (deadline !== undefined) registry.setExpiry(session, deadline);
    const resumed = resumable !== undefined || (adopted !== undefined && !adoptsNew);
    // A resumed session keeps its own link key (the resume's verifier); a new one gets the register's.
    const linkVerifier = (resumed ? message.resume?.linkVerifier : undefined) ?? message.linkVerifier;
    session.link = linkVerifier !== undefined ? options.linkGate.create(session.id, linkVerifier) : undefined;
    // A resumed session whose access changed (password <-> link <-> approve) starts with no viewers:
    // none admitted under the old access stays in, and the agent says so.
    const accessMode = accessLabelOf(session.access !== undefined, message.viewers);
    const viewersReset =
      resumed && session.accessMode !== undefined && session.accessMode !== accessMode ? { from: session.accessMode, to: accessMode } : undefined;
    const registered: RegisteredMessage = {
      type: 'registered',
      sessionId: session.id,
      url: options.sessionUrl(session.id),
      resumeSecret: session.resumeSecret,
      graceMs: config.sessionGraceMs,
      resumed,
      p2p: p2pSettingsFor(config.p2p, message.p2p, turnUser(session.id, AGENT_TURN_USER)),
      ...(session.access ? { access: 'password' as const } : {}),
      ...(session.expiresAt !== undefined ? { expiresAt: session.expiresAt } : {}),
      ...(message.viewers !== undefined ? { viewers: message.viewers } : {}),
      ...(viewersReset ? { viewersReset } : {}),
    };
    // Sent before the connection's HELLO, which leaves on a later microtask.
    ws.send(JSON.stringify(registered));
    session.agentIceAt = Date.now();
    if (viewersReset) {
      options.viewerGate.reset(session);
      logger.info({ sessionId: session.id, ...viewersReset }, 'session access changed: its viewers start over');
    }
    session.accessMode = accessMode;
    // The latest register decides here too; a resumed session keeps its viewers and their states (announced again, after `registered`).
    if (message.viewers !== undefined) options.viewerGate.enable(session, message.viewers);
    else session.viewers = undefined;
    session.private = message.private === true;
    metrics.agentConnections.inc({ outcome: 'registered' });
    (registered.resumed ? metrics.sessionsResumed : metrics.sessionsCreated).inc();
    logger.info(
      {
        sessionId: session.id,
        remoteAddress,
        resumed: registered.resumed,
        client: message.client,
        url: registered.url,
        access: session.access ? 'password' : 'link',
        ...(message.addressRules ? { addressRules: message.addressRules } : {}),
        ...(message.name !== undefined ? { name: message.name } : {}),
      },
      'agent connected',
    );
  }

  return {
    handleUpgrade(req, socket, head) {
      const remoteAddress = clientAddress(req);
      const source = (options.sourceAddress ?? clientAddress)(req);
      // Checked before the token, so a throttled guesser learns nothing, right or wrong.
      const waitS = options.authThrottle.retryAfterS(source, Date.now());
      if (waitS > 0) {
        metrics.agentConnections.inc({ outcome: 'refused' });
        logger.info({ remoteAddress, source }, 'agent refused: too many wrong tokens from its address');
        writeRawText(socket, 429, `Too many wrong agent tokens from this address; try again in ${waitS} s (${ERR_AUTH_THROTTLED})`, [
          ['retry-after', String(waitS)],
        ]);
        return;
      }
      const token = options.tokenCheck(req);
      if (token === undefined) {
        options.authThrottle.failed(source, Date.now());
        metrics.agentConnections.inc({ outcome: 'refused' });
        logger.info({ remoteAddress }, 'agent refused: missing or wrong token');
        writeRawText(
          socket,
          401,
          "Wingman server refused the agent token: use a token from the server's WINGMAN_TOKENS (or the default token for a local server)",
          [['www-authenticate', 'Bearer realm="wingman"']],
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, remoteAddress, token));
    },

    async close() {
      const open = [...sockets.entries()];
      await Promise.all(
        open.map(
          ([ws, closePolitely]) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === ws.CLOSED) return resolve();
              const timer = setTimeout(() => {
                ws.terminate();
                resolve();
              }, AGENT_CLOSE_TIMEOUT_MS);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              closePolitely();
            }),
        ),
      );
      wss.close();
    },
  };
}
