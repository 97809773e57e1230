/**
 * The agents' WebSocket endpoint (AGENT_PATH on the apex host): token check before the upgrade (so the agent can
 * print the 401 body), then the `register` → `registered` handshake, then hand-over to an agent link that carries
 * protocol frames. Protocol: docs/PROTOCOL.md §Agent control channel.
 */
import type { ClusterNode } from '../cluster/cluster-node';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  MAX_CONTROL_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  sessionNameProblem,
  WEBSOCKET_ACCEPT_MESSAGE_BYTES,
  type ControlErrorCode,
  type RegisterMessage,
} from '@wingman/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { writeRawText } from '../http/raw-response';
import { parseControl, sendControlError } from './agent-link';
import { registerAgent, type RegisterDeps } from './agent-register';
import { rawDataToBuffer, WS_CLOSE_POLICY_VIOLATION } from '../http/ws-data';
import type { SessionIds } from '../sessions/session-key';
import { createResumeSecret, deadlineOf } from '../sessions/session-id';
import { ownerOf, type NameStore } from '../sessions/session-names';
import { createTokenCheck } from '../sessions/token-check';
import { createPasswordThrottle } from '../access/password-throttle';
import { clientAddress } from '../viewers/viewer-address';

/** Time an agent has, after the upgrade, to send `register`. */
const REGISTER_TIMEOUT_MS = 10_000;
/** Largest message an agent may send: a frame batch (WEBSOCKET_ACCEPT_MESSAGE_BYTES, 256 KiB) or a control message (64 KiB). */
const AGENT_MAX_MESSAGE_BYTES = Math.max(WEBSOCKET_ACCEPT_MESSAGE_BYTES, MAX_CONTROL_MESSAGE_BYTES);
/** How long close() waits for agents to finish the close handshake before cutting them off. */
const AGENT_CLOSE_TIMEOUT_MS = 2_000;

/** The endpoint's options: what registering uses (agent-register.ts), and these. */
interface AgentEndpointOptions extends RegisterDeps {
  /** How session ids bind to resume secrets: an agent whose session this server lost claims its id back. */
  sessionIds: SessionIds;
  /** Set when the server is a node of a cluster (REDIS_URL): agents may resume sessions other nodes held. */
  cluster?: ClusterNode;
  /** Who holds which stable session name (sessions/session-names.ts). */
  names: NameStore;
  /** The source address of a request (trusted proxies): what failed authentications are counted by. */
  sourceAddress: (req: IncomingMessage) => string;
}

export type AgentEndpoint = ReturnType<typeof createAgentEndpoint>;

export function createAgentEndpoint(options: AgentEndpointOptions) {
  const { registry, logger, metrics } = options;
  const tokenCheck = createTokenCheck(options.config.tokens);
  // The password throttle's window and per-source count, per agent source address; no session-wide bound.
  const authThrottle = createPasswordThrottle({ perSource: options.config.limits.agentAuthFailures, perSession: Number.MAX_SAFE_INTEGER });
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
      ws.close(WS_CLOSE_POLICY_VIOLATION, code);
    };
    const timer = setTimeout(() => refuse('ERR_TIMEOUT', `no register message within ${REGISTER_TIMEOUT_MS} ms`), REGISTER_TIMEOUT_MS);
    ws.once('close', () => clearTimeout(timer));
    /** `ask`, while which any message refuses the agent: it sends nothing before `registered`. */
    const whileAsking = <T>(ask: Promise<T>): Promise<T> => {
      const early = () => refuse('ERR_PROTOCOL', 'message before registered');
      ws.once('message', early);
      return ask.finally(() => ws.off('message', early));
    };
    const register = (message: RegisterMessage, adopt = false, adoptsNew = false) =>
      registerAgent(options, sockets, { ws, message, remoteAddress, token, refuse, adopt, adoptsNew });

    const onMessage = (data: RawData, isBinary: boolean) => {
      if (isBinary) return refuse('ERR_PROTOCOL', 'expected a register message before any frame');
      const message = parseControl(rawDataToBuffer(data).toString('utf8'), refuse);
      if (!message) return;
      if (message.type !== 'register') return refuse('ERR_PROTOCOL', `expected register, got ${message.type}`);
      if (message.version !== PROTOCOL_VERSION) {
        return refuse('ERR_UNSUPPORTED_VERSION', `agent speaks protocol version ${message.version}, this server ${PROTOCOL_VERSION}; update one of them`);
      }
      // Registration is synchronous from here on: a frame the agent pipelines right behind `register` must find the connection's listener in place.
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (message.name !== undefined) return registerNamed(message, message.name);
      const { resume } = message;
      const deadline = resume && deadlineOf(resume.resumeSecret);
      if (resume && ((deadline !== undefined && deadline <= Date.now()) || registry.ended(resume.sessionId))) {
        // Its deadline passed (bound into the secret, so on every node and after any restart): never bring the link back.
        return refuse('ERR_SESSION_EXPIRED', `session ${resume.sessionId} reached its expiry`);
      }
      if (resume && deadline === undefined && message.expiresInMs !== undefined) {
        // A deadline lives only in a new session's secret (any node, any restart reads it there): asking for one gets a new session.
        return register({ ...message, resume: undefined });
      }
      if (!resume || registry.findForResume(resume.sessionId, resume.resumeSecret).kind !== 'unknown') {
        return register(message);
      }
      // Not held here. Its id bound to the secret (a session of this server before a restart, session-key.ts): the agent claims it back.
      const bound = options.sessionIds.owns(resume.sessionId, resume.resumeSecret);
      if (!options.cluster) return register(message, bound);
      // A cluster: another node may hold it.
      whileAsking(options.cluster.remoteResume(resume.sessionId, resume.resumeSecret, bound)).then(
        (r) => {
          if (ws.readyState !== ws.OPEN) return;
          if (r.kind === 'busy') return refuse('ERR_SESSION_IN_USE', `session ${resume.sessionId} already has a connected agent (on another node)`);
          register(message, r.kind === 'adopt');
        },
        (err: unknown) => {
          logger.warn({ err, sessionId: resume.sessionId }, 'session directory unavailable: resuming as a new session');
          if (ws.readyState === ws.OPEN) register({ ...message, resume: undefined });
        },
      );
    };
    ws.on('message', onMessage);

    /**
     * A register with a stable name: the token must hold the name (claimed now if no token does, session-names.ts);
     * then the session of that name is resumed here (in its grace period), taken over from another node, or created,
     * and refused while another agent serves it.
     */
    function registerNamed(message: RegisterMessage, name: string): void {
      const problem = sessionNameProblem(name);
      if (problem) return refuse('ERR_NAME_INVALID', problem);
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
        const local = registry.get(name);
        if (local?.agent) return refuse('ERR_SESSION_IN_USE', `the name "${name}" already has a connected agent`);
        if (local) return register({ ...message, resume: { sessionId: name, resumeSecret: local.resumeSecret } });
        // The session of this name, new or taken over, with a secret of its own: the name and the token find it, not the secret.
        register({ ...message, resume: { sessionId: name, resumeSecret: createResumeSecret() } }, true, !held.existed);
      };
      // The name and the directory are asked while nothing may arrive.
      whileAsking(settle()).catch((err: unknown) => {
        logger.warn({ err, name }, 'session names unavailable: refusing a named session');
        refuse('ERR_INTERNAL', `the server cannot check the name "${name}" now (its session directory does not answer); try again`);
      });
    }
  }

  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const remoteAddress = clientAddress(req);
      const source = options.sourceAddress(req);
      // Checked before the token, so a throttled guesser learns nothing, right or wrong.
      const waitS = authThrottle.retryAfterS(source, Date.now());
      if (waitS > 0) {
        metrics.agentConnections.inc({ outcome: 'refused' });
        logger.info({ remoteAddress, source }, 'agent refused: too many wrong tokens from its address');
        return writeRawText(socket, 429, `Too many wrong agent tokens from this address; try again in ${waitS} s (ERR_AUTH_THROTTLED)`, [
          ['retry-after', String(waitS)],
        ]);
      }
      const token = tokenCheck(req);
      if (token === undefined) {
        authThrottle.failed(source, Date.now());
        metrics.agentConnections.inc({ outcome: 'refused' });
        logger.info({ remoteAddress }, 'agent refused: missing or wrong token');
        return writeRawText(
          socket,
          401,
          "Wingman server refused the agent token: use a token from the server's WINGMAN_TOKENS (or the default token for a local server)",
          [['www-authenticate', 'Bearer realm="wingman"']],
        );
      }
      wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, remoteAddress, token));
    },

    /** Sends GOAWAY to every agent and waits (bounded) for their sockets to close. */
    async close(): Promise<void> {
      await Promise.all(
        [...sockets].map(([ws, closePolitely]) => {
          if (ws.readyState === ws.CLOSED) return Promise.resolve();
          const closed = new Promise((resolve) => ws.once('close', resolve));
          const timer = setTimeout(() => ws.terminate(), AGENT_CLOSE_TIMEOUT_MS);
          closePolitely();
          return closed.finally(() => clearTimeout(timer));
        }),
      );
      wss.close();
    },
  };
}
