/**
 * Registers an agent whose `register` message passed the endpoint's checks (agent-endpoint.ts): resumes, adopts or
 * creates its session, attaches its agent link, and answers `registered`. Protocol: docs/PROTOCOL.md §Agent control
 * channel.
 */
import { accessLabelOf, type ControlErrorCode, type RegisterMessage, type RegisteredMessage } from '@wingman/protocol';
import type { WebSocket } from 'ws';
import type { AddressHolds } from '../access/address-holds';
import { compileAddressRules } from '../access/address-rules';
import type { LinkAccessGate } from '../access/link-access';
import type { ViewerAccessGate } from '../access/viewer-access';
import type { Metrics } from '../metrics';
import { AGENT_TURN_USER, p2pSettingsFor, turnUser } from '../p2p/ice-config';
import { deadlineOf } from '../sessions/session-id';
import { ERR_TOO_MANY_SESSIONS, type TokenSessions } from '../sessions/token-sessions';
import { attachAgentLink, type AgentLinkDeps } from './agent-link';

/** What registering uses of the endpoint's options (AgentEndpointOptions). */
export interface RegisterDeps extends AgentLinkDeps {
  metrics: Metrics;
  /** Public URL of a session, e.g. `http://<id>.localhost:8080/`. */
  sessionUrl: (sessionId: string) => string;
  /** Makes the access state of sessions whose agent registers with a viewer password. */
  accessGate: ViewerAccessGate;
  /** Makes the link state of sessions whose agent registers a link verifier (access/link-access.ts). */
  linkGate: LinkAccessGate;
  /** Sessions per token (sessions/token-sessions.ts); the server removes sessions as they expire. */
  tokenSessions: TokenSessions;
  /** Viewers' upgraded sockets by address (access/address-holds.ts): a register's new rules close those they refuse. */
  addressHolds: AddressHolds;
}

interface RegisterRequest {
  ws: WebSocket;
  message: RegisterMessage;
  remoteAddress: string;
  /** The agent's token (its session quota). */
  token: string;
  refuse: (code: ControlErrorCode, msg: string) => void;
  /** The agent may take the session over (see below). */
  adopt: boolean;
  /** The session taken over is new (a stable name no node held): registered as not resumed. */
  adoptsNew: boolean;
}

/**
 * `adopt`: the agent may take the session over — from another node (the directory allowed it), or back after this
 * server lost it (its id is bound to the secret).
 */
export function registerAgent(options: RegisterDeps, sockets: Map<WebSocket, () => void>, request: RegisterRequest): void {
  const { registry, logger, metrics, config } = options;
  const { ws, message, remoteAddress, token, refuse, adopt, adoptsNew } = request;
  // Read before anything changes: a register whose rules cannot be applied is refused whole.
  const addressRules = message.addressRules ? compileAddressRules(message.addressRules) : undefined;
  if (addressRules && 'problem' in addressRules) return refuse('ERR_INVALID_PAYLOAD', addressRules.problem);
  if (message.allowEmails && !config.oidc)
    return refuse(
      'ERR_SIGN_IN_UNAVAILABLE',
      'this Wingman server has no sign-in configured (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET), so --allow-email cannot be applied; ask its operator, or share without --allow-email',
    );
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
  const { session, link } = attachAgentLink(ws, options, { resume: resumable, adopt: adopted, expiresAt: newDeadline, remoteAddress, p2p: message.p2p });
  sockets.set(ws, () => link.close('ERR_GOING_AWAY', 'server shutting down'));
  options.tokenSessions.add(token, session);
  // The latest register decides: a restarted `wingman` may add, change or drop the password.
  session.access = message.viewerPassword !== undefined ? options.accessGate.create(session.id, message.viewerPassword) : undefined;
  session.addressRules = addressRules;
  session.allowEmails = message.allowEmails;
  const cut = options.addressHolds.enforce(session);
  if (cut > 0) logger.info({ sessionId: session.id, sockets: cut }, 'address rules closed sockets of viewers they refuse');
  // A session keeps the deadline bound into its secret, new, resumed or adopted (another node, a restart): reconnecting never extends it nor drops it.
  const deadline = deadlineOf(session.resumeSecret);
  if (deadline !== undefined) registry.setExpiry(session, deadline);
  const resumed = resumable !== undefined || (adopted !== undefined && !adoptsNew);
  // A resumed session keeps its own link key (the resume's verifier); a new one gets the register's.
  const linkVerifier = (resumed ? message.resume?.linkVerifier : undefined) ?? message.linkVerifier;
  session.link = linkVerifier !== undefined ? options.linkGate.create(session.id, linkVerifier) : undefined;
  // A resumed session whose access changed (password <-> link <-> approve) starts with no viewers: none admitted
  // under the old access stays in, and the agent says so.
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
