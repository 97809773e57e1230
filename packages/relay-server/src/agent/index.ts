/**
 * The agent: keeps one registered connection to the tunnel server, serves
 * the relay streams it carries with the forwarder, and reconnects with
 * capped exponential backoff, resuming its session so the URL stays the same
 * within the server's grace period. Refused tokens are fatal: no retry;
 * so are, before the first registration, a server name that does not
 * resolve and the wrong scheme (agent/server-errors.ts).
 */
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import {
  connectionOverWebSocket,
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  generateLinkKey,
  parseServerMessage,
  PROTOCOL_VERSION,
  startHeartbeat as startConnectionHeartbeat,
  type AddressRules,
  type AccessLabel,
  type AgentToServer,
  type ControlErrorCode,
  type Connection,
  type P2PSettings,
  type RegisteredMessage,
  type RegisterMessage,
  type ServerToAgentReceived,
  type ViewerGateMode,
} from '@wingman/protocol';
import { createProxyRoute } from './proxy-agent';
import { createForwarder, type Forwarder, type HostHeaderMode, type RequestLogEntry, type Target } from '../forward';
import { VERSION } from '../version';
import { backoffDelay, type BackoffOptions } from './backoff';
import { agentUrl, connectOnce, type AttemptFailure } from './connect';
import {
  CLOSE_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_MAX_MISSED,
  HEARTBEAT_TIMEOUT_MS,
  MAX_BUSY_RESUME_ATTEMPTS,
  STABLE_CONNECTION_MS,
} from './constants';
import { linkVerifierOf } from './link-verifier';
import { createMemoryResumeStore, type ResumeStore } from './resume-store';

export { createFileResumeStore, createMemoryResumeStore, defaultStateDir, resumeKey, type ResumeStore } from './resume-store';

export interface AgentOptions {
  /** Tunnel server base URL (http:// or https://); the agent endpoint is AGENT_PATH under it. */
  server: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** The local app. */
  target: Target;
  /** Offer P2P to viewers (false with --no-p2p). Default true. */
  p2p?: boolean;
  /** Host header policy of the forwarder. Default 'rewrite'. */
  hostHeader?: HostHeaderMode;
  /** Response-head timeout of the forwarder, ms. */
  timeoutMs?: number;
  /**
   * Largest WebSocket message relayed either way, bytes: viewers' messages
   * (the relay connection's reassembly) and, for the forwarder created here,
   * the app's. Default DEFAULT_WS_MESSAGE_LIMIT_BYTES (1 MiB).
   */
  wsMaxMessageBytes?: number;
  /** Serve streams with this forwarder (e.g. one shared with the P2P host). Default: one created from the options above, closed with the agent. */
  forwarder?: Forwarder;
  /** Where the resumable session is kept. Default: memory (resume across reconnects of this process only). */
  resumeStore?: ResumeStore;
  /**
   * A stable name (`wingman http --name`): the session is `<name>.<domain>`
   * on every run, found by the name and the token (the resume store is not
   * used). The agent stops if the server refuses the name or does not confirm it.
   */
  name?: string;
  /** Deadline of one connection attempt (upgrade + registration), ms. Default CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Reconnect backoff. Defaults: BACKOFF_INITIAL_MS doubling to BACKOFF_MAX_MS. */
  backoff?: BackoffOptions;
  /** PING interval on a live connection, ms. Default HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs?: number;
  /** PONG deadline, ms. Default HEARTBEAT_TIMEOUT_MS. */
  heartbeatTimeoutMs?: number;
  /**
   * The proxy of the connection to the tunnel server (`--proxy`, HTTPS_PROXY,
   * …; cli/proxy-config.ts picked it): its URL, credentials included, and how
   * messages show it (without the password).
   */
  proxy?: { url: string; shown: string };
  /**
   * Viewer addresses the session admits (`wingman http --allow-ip/--deny-ip`),
   * CIDRs checked by cli/address-rules.ts. A server that does not know them
   * refuses the register, so they are never silently dropped.
   */
  addressRules?: AddressRules;
  /**
   * Viewers sign in with the server's identity provider, and only these
   * emails get in (`wingman http --allow-email`, cli/allowed-emails.ts). A
   * server without sign-in refuses the register (ERR_SIGN_IN_UNAVAILABLE).
   */
  allowEmails?: string[];
  /** Viewers must present this password (`wingman http --password`). The agent refuses to serve if the server does not confirm it. */
  viewerPassword?: string;
  /**
   * End the session this long after it was registered (`wingman http --expires`).
   * The tunnel server enforces it (viewers then get a "link expired" page) and
   * the agent stops with a `fatal` ERR_SESSION_EXPIRED; if the server cannot
   * say so, the agent stops by itself EXPIRY_BACKSTOP_MS later.
   */
  expiresInMs?: number;
  /**
   * Viewer identity (docs/PROTOCOL.md §Viewer identity): the server announces
   * viewers as `control` events and applies decisions sent with
   * sendControl(). `approve` (`wingman http --approve`): new viewers wait to
   * be admitted; the agent refuses to serve if the server does not confirm it.
   * Default: none (the server tracks no viewers).
   */
  viewers?: ViewerGateMode;
  /**
   * `wingman http --private`: the server is asked to relay nothing, and
   * whatever it sends over the relay anyway is refused here: the app is
   * reached only over verified P2P channels (docs/PROTOCOL.md §Verified channels).
   */
  private?: boolean;
  /**
   * The link key of every session this agent registers (a stable name's,
   * agent/named-link-key.ts). Default: the resumed session's own key (kept
   * in the resume store), else a new random key for each new session.
   */
  linkKey?: string;
  /**
   * `wingman http --public`: register no link verifier, so the host name
   * alone opens the session. Default: only viewers that hold the link key
   * (docs/PROTOCOL.md §Link access).
   */
  public?: boolean;
}

/** Server refusals of a named register that retrying cannot change. */
const NAME_REFUSALS: readonly string[] = [
  'ERR_NAME_INVALID',
  'ERR_NAME_TAKEN',
  'ERR_NAME_LIMIT',
  'ERR_SESSION_IN_USE',
  'ERR_INVALID_PAYLOAD',
] satisfies ControlErrorCode[];

/** After its own reckoning of the deadline, how long the agent waits for the server's ERR_SESSION_EXPIRED before stopping anyway, ms. */
const EXPIRY_BACKSTOP_MS = 5_000;

export interface ReadyEvent {
  url: string;
  sessionId: string;
  /** Same session (and URL) as before a reconnect or restart. */
  resumed: boolean;
  /** P2P enabled by both sides. */
  p2p: boolean;
  /** The server's P2P settings (ICE servers may hold TURN credentials: do not print). */
  p2pSettings: P2PSettings;
  /** The session's link key (`#k=`): the resumed session's own, a stable name's, or a new one for a new session. */
  linkKey: string;
  /** The link to share: `url` with the link key in its fragment (set by the CLI). */
  link?: string;
  /** The proxy the agent's connection goes through, without its password (set by the CLI). */
  proxy?: string;
  /** The viewer addresses the server admits (set by the CLI, as sent in the register). */
  addressRules?: AddressRules;
  /** The emails the server admits after sign-in (set by the CLI, as sent in the register). */
  allowEmails?: string[];
  /** 'password': viewers need the password; 'link': the URL alone gives access. */
  access: 'password' | 'link';
  /** `--private`: the server relays nothing; viewers reach the app only over a channel verified with the link key. */
  private?: true;
  /** When the session ends (server clock, ms since epoch), with `expiresInMs`. */
  expiresAt?: number;
  /** The viewer gate the server applies, when the agent asked for one and the server confirmed it. */
  viewers?: ViewerGateMode;
  /** The session is a stable name (`--name`): sessionId is that name. */
  named?: true;
  /** A resumed URL whose access changed: the server forgot the viewers it had admitted under the old access. */
  viewersReset?: { from: AccessLabel; to: AccessLabel };
}

export interface AgentEvents {
  ready: [ReadyEvent];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number; reason: string }];
  fatal: [{ code: string; message: string }];
  request: [RequestLogEntry];
  /** A validated control message other than registration (signaling for the P2P host). */
  control: [ServerToAgentReceived];
}

export interface Agent extends EventEmitter<AgentEvents> {
  /** Starts connecting. Call once. */
  start(): void;
  /** Closes the connection (GOAWAY), stops reconnecting. Resolves when the socket is closed (bounded by CLOSE_TIMEOUT_MS). */
  close(): Promise<void>;
  /** Sends a control message (signaling, peer reports). False when not connected. */
  sendControl(message: AgentToServer): boolean;
  /** The live relay connection, if registered. */
  readonly connection: Connection | undefined;
}

export function createAgent(options: AgentOptions): Agent {
  const url = agentUrl(options.server);
  // One for the agent's life: every attempt goes through the same proxy.
  const proxy = options.proxy ? { route: createProxyRoute(options.proxy.url), shown: options.proxy.shown } : undefined;
  const emitter = new EventEmitter<AgentEvents>();
  const store = options.resumeStore ?? createMemoryResumeStore();
  const ownForwarder = !options.forwarder;
  const forwarder = options.forwarder ?? ownForwarderOf(options, emitter);
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;

  let state: 'idle' | 'connecting' | 'live' | 'waiting' | 'stopped' = 'idle';
  let attempt = 0;
  let busyResumes = 0;
  let everRegistered = false;
  /** The latest failure's code and how many attempts in a row failed with it. */
  let lastFailureCode: string | undefined;
  let sameFailures = 0;
  let liveSince = 0;
  /** The server's `error` message on a live connection, reported with the close that follows. */
  let serverError: string | undefined;
  let cancelAttempt: (() => void) | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopHeartbeat: (() => void) | undefined;
  let expiryBackstop: NodeJS.Timeout | undefined;
  let ws: WebSocket | undefined;
  let conn: Connection | undefined;

  const connect = () => {
    state = 'connecting';
    // A named session is found by its name and the token; a saved session id is for unnamed ones.
    const resume = options.name === undefined ? store.load() : undefined;
    // A new session gets a new key; a resumed one keeps its own. The server applies the resume's
    // verifier when it resumes (`registered.resumed`), the top-level one otherwise: the agent takes the key the same way.
    const keys = { fresh: options.linkKey ?? generateLinkKey(), resumed: options.linkKey ?? resume?.linkKey };
    const register = registerMessage(options, resume, keys);
    cancelAttempt = connectOnce({
      url,
      token: options.token,
      register,
      timeoutMs: connectTimeoutMs,
      onRegistered: (socket, message) =>
        onRegistered(socket, message, resume !== undefined && message.resumed && keys.resumed !== undefined ? keys.resumed : keys.fresh),
      onFailure: (failure) => onFailure(failure, resume !== undefined || options.name !== undefined),
      ...(proxy ? { proxy } : {}),
    });
  };

  const scheduleRetry = (reason: string, delayMs?: number) => {
    if (state === 'stopped') return;
    state = 'waiting';
    attempt++;
    const delay = delayMs ?? backoffDelay(attempt, options.backoff);
    emitter.emit('reconnecting', { attempt, delayMs: delay, reason });
    retryTimer = setTimeout(connect, delay);
  };

  const fatal = (code: string, message: string) => {
    if (state === 'stopped') return;
    const socket = ws;
    stop();
    if (code === 'ERR_SESSION_EXPIRED' && options.name === undefined) store.clear(); // ended at its --expires deadline: nothing to resume
    socket?.terminate();
    emitter.emit('fatal', { code, message });
  };

  function onFailure(failure: AttemptFailure, resuming: boolean): void {
    cancelAttempt = undefined;
    if (state === 'stopped') return;
    if (failure.serverError && resuming) {
      // A refused resume is not fatal. In use (the tunnel server's
      // ERR_SESSION_IN_USE): the previous agent's socket is not seen closed
      // yet (a restart seconds after a crash) — try again, a few times.
      // Anything else: register a new session at once. (An unknown session is
      // not refused: the server answers with a new one. One that reached its
      // --expires deadline is refused with ERR_SESSION_EXPIRED: this process
      // stops if that deadline was its own; a restarted one starts afresh, quietly.)
      if (failure.code === 'ERR_SESSION_EXPIRED' && expiryBackstop !== undefined) return fatal(failure.code, failure.message);
      if (failure.code === 'ERR_SESSION_EXPIRED' && options.name === undefined && !everRegistered) return void (store.clear(), connect());
      if (failure.code === 'ERR_SESSION_IN_USE' && busyResumes++ < MAX_BUSY_RESUME_ATTEMPTS) return scheduleRetry(`${failure.code}: ${failure.message}`);
      // A name cannot fall back to a new session (that would be another link): a refused name
      // or one another agent keeps serving ends this one; anything else (the server's name
      // store did not answer) is tried again.
      if (options.name !== undefined)
        return NAME_REFUSALS.includes(failure.code) ? fatal(failure.code, failure.message) : scheduleRetry(`${failure.code}: ${failure.message}`);
      store.clear();
      return scheduleRetry(`${failure.code}: ${failure.message}; registering a new session`, 0);
    }
    if (failure.fatal) return fatal(failure.code, failure.message);
    // Before the first registration, a failure that cannot heal (a name that
    // does not resolve, the wrong scheme) ends the agent after a few attempts.
    // Once it has served, it keeps trying: the network may come back.
    sameFailures = failure.code === lastFailureCode ? sameFailures + 1 : 1;
    lastFailureCode = failure.code;
    if (!everRegistered && failure.giveUpAfter !== undefined && sameFailures >= failure.giveUpAfter) return fatal(failure.code, failure.message);
    scheduleRetry(failure.message);
  }

  function onRegistered(socket: WebSocket, message: RegisteredMessage, linkKey: string): void {
    cancelAttempt = undefined;
    if (state === 'stopped') return void socket.terminate();
    const unconfirmed = unconfirmedOption(options, message);
    if (unconfirmed) {
      ws = socket;
      return fatal(unconfirmed.code, unconfirmed.message);
    }
    if (options.expiresInMs !== undefined && expiryBackstop === undefined) {
      // Measured on this clock from the first registration, as the server's deadline is on its own.
      const ms = options.expiresInMs + EXPIRY_BACKSTOP_MS;
      expiryBackstop = setTimeout(() => fatal('ERR_SESSION_EXPIRED', `the session reached its expiry (${Math.round(options.expiresInMs! / 1000)} s)`), ms);
    }
    state = 'live';
    everRegistered = true;
    lastFailureCode = undefined;
    liveSince = Date.now();
    busyResumes = 0;
    serverError = undefined;
    ws = socket;
    if (options.name === undefined) store.save({ sessionId: message.sessionId, resumeSecret: message.resumeSecret, linkKey });
    const c = connectionOverWebSocket(socket, {
      role: 'server',
      onText: onControlText,
      maxWsMessageBytes: options.wsMaxMessageBytes ?? DEFAULT_WS_MESSAGE_LIMIT_BYTES,
    });
    conn = c;
    c.on('stream', (stream) => {
      // A private session's server relays nothing; one that does anyway (tampered with) gets no app bytes.
      if (options.private) return stream.reset('ERR_CANCEL', 'a private session: the relay carries nothing of it');
      forwarder.handleStream(stream, 'relay');
    });
    socket.on('close', (code: number, reason: Buffer) => onSocketClose(socket, c, code, reason.toString('utf8')));
    startHeartbeat(socket, c);
    emitter.emit('ready', readyEvent(options, message, linkKey));
  }

  function onControlText(text: string): void {
    let message: ServerToAgentReceived;
    try {
      message = parseServerMessage(text);
    } catch {
      return; // Unknown or malformed control text (a newer server?): ignored, the relay keeps working.
    }
    // The server refuses something this agent sent and closes the connection;
    // the reconnect (same URL) is the "reset the connection, keep running" answer.
    // Except an expiry: the session is gone for good, and a reconnect would only make a new URL.
    if (message.type === 'error' && message.code === 'ERR_SESSION_EXPIRED') return fatal(message.code, message.message);
    if (message.type === 'error') return void (serverError = `${message.code}: ${message.message}`);
    if (message.type !== 'registered') emitter.emit('control', message);
  }

  function startHeartbeat(socket: WebSocket, c: Connection): void {
    stopHeartbeat?.();
    stopHeartbeat = relayHeartbeat(options, socket, c, () => ws === socket);
  }

  function onSocketClose(socket: WebSocket, c: Connection, code: number, reason: string): void {
    if (ws !== socket) return;
    stopHeartbeat?.();
    ws = undefined;
    conn = undefined;
    c.transportClosed();
    if (state === 'stopped') return;
    // Backoff starts over only after a connection that held: one dropped right
    // after registering (e.g. refused again and again) keeps backing off.
    if (Date.now() - liveSince >= STABLE_CONNECTION_MS) attempt = 0;
    const why = closeReason(serverError, code, reason);
    emitter.emit('disconnected', { reason: why });
    scheduleRetry(why);
  }

  function stop(): void {
    state = 'stopped';
    clearTimeout(retryTimer);
    clearTimeout(expiryBackstop);
    stopHeartbeat?.();
    cancelAttempt?.();
    cancelAttempt = undefined;
    if (ownForwarder) forwarder.close();
  }

  const agent = Object.assign(emitter, {
    start() {
      if (state !== 'idle') throw new Error('agent already started');
      connect();
    },
    async close() {
      const socket = ws;
      const c = conn;
      stop();
      if (socket) await closeGoingAway(socket, c);
    },
    sendControl(message: AgentToServer) {
      if (!ws || ws.readyState !== ws.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
  });
  // A getter (Object.assign would copy the value once).
  Object.defineProperty(agent, 'connection', { get: () => conn, enumerable: true });
  return agent as Agent;
}

/** Why the relay connection closed, as the `disconnected` and `reconnecting` events say it. */
function closeReason(serverError: string | undefined, code: number, reason: string): string {
  return serverError
    ? `the tunnel server closed the connection (${serverError})`
    : `connection to the tunnel server lost (code ${code}${reason ? `: ${reason}` : ''})`;
}

/** The agent's own forwarder (when the caller gave none), its request log lines emitted as `request` events. */
function ownForwarderOf(options: AgentOptions, emitter: EventEmitter<AgentEvents>): Forwarder {
  return createForwarder({
    target: options.target,
    hostHeader: options.hostHeader,
    timeoutMs: options.timeoutMs,
    ...(options.wsMaxMessageBytes !== undefined ? { wsMaxMessageBytes: options.wsMaxMessageBytes } : {}),
    onRequest: (entry) => emitter.emit('request', entry),
  });
}

/**
 * The `register` message. A new session gets a new key (`keys.fresh`); a
 * resumed one keeps its own (`keys.resumed`). The saved state also holds the
 * link key, which never leaves this machine: only its verifier does.
 */
function registerMessage(
  options: AgentOptions,
  resume: ReturnType<ResumeStore['load']>,
  keys: { fresh: string; resumed: string | undefined },
): RegisterMessage {
  const verifier = (key: string | undefined) => (options.public || key === undefined ? {} : { linkVerifier: linkVerifierOf(key) });
  return {
    type: 'register',
    version: PROTOCOL_VERSION,
    p2p: options.p2p ?? true,
    client: `wingman/${VERSION}`,
    ...(resume ? { resume: { sessionId: resume.sessionId, resumeSecret: resume.resumeSecret, ...verifier(keys.resumed) } } : {}),
    ...verifier(keys.fresh),
    ...(options.viewerPassword !== undefined ? { viewerPassword: options.viewerPassword } : {}),
    ...(options.addressRules !== undefined ? { addressRules: options.addressRules } : {}),
    ...(options.allowEmails !== undefined ? { allowEmails: options.allowEmails } : {}),
    ...(options.expiresInMs !== undefined ? { expiresInMs: options.expiresInMs } : {}),
    ...(options.viewers !== undefined ? { viewers: options.viewers } : {}),
    ...(options.private ? { private: true } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
  };
}

/**
 * An option the server's registration did not confirm, as the fatal error it
 * is: never serve an app the developer asked to protect without the
 * protection (or under another name, or past its deadline).
 */
function unconfirmedOption(options: AgentOptions, message: RegisteredMessage): { code: string; message: string } | undefined {
  if (options.viewerPassword !== undefined && message.access !== 'password')
    return { code: 'ERR_ACCESS_UNSUPPORTED', message: 'the tunnel server did not confirm the viewer password; it may be too old for --password' };
  if (options.expiresInMs !== undefined && message.expiresAt === undefined)
    return { code: 'ERR_EXPIRY_UNSUPPORTED', message: 'the tunnel server did not confirm the expiry; it may be too old for --expires' };
  if (options.name !== undefined && message.sessionId !== options.name)
    return {
      code: 'ERR_NAME_UNSUPPORTED',
      message: `the tunnel server did not give this session the name "${options.name}"; it may be too old for --name`,
    };
  if (options.viewers === 'approve' && message.viewers !== 'approve')
    return { code: 'ERR_APPROVAL_UNSUPPORTED', message: 'the tunnel server did not confirm viewer approval; it may be too old for --approve' };
  return undefined;
}

function readyEvent(options: AgentOptions, message: RegisteredMessage, linkKey: string): ReadyEvent {
  return {
    url: message.url,
    sessionId: message.sessionId,
    resumed: message.resumed,
    linkKey,
    p2p: message.p2p.enabled,
    p2pSettings: message.p2p,
    access: message.access === 'password' ? 'password' : 'link',
    ...(message.expiresAt !== undefined ? { expiresAt: message.expiresAt } : {}),
    ...(message.viewers !== undefined ? { viewers: message.viewers } : {}),
    ...(message.viewersReset ? { viewersReset: message.viewersReset } : {}),
    ...(options.name !== undefined ? { named: true as const } : {}),
    ...(options.private ? { private: true as const } : {}),
  };
}

/** The relay connection's heartbeat; a dead path drops the socket (while it is the agent's `current` one), and its 'close' starts the reconnect. */
function relayHeartbeat(options: AgentOptions, socket: WebSocket, c: Connection, current: () => boolean): () => void {
  return startConnectionHeartbeat(c, {
    intervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    timeoutMs: options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS,
    maxMissed: HEARTBEAT_MAX_MISSED,
    bufferedAmount: () => socket.bufferedAmount,
    onDead: () => {
      if (current()) socket.terminate();
    },
  });
}

/** Closes the relay connection (GOAWAY) and its socket; resolves once the socket closed, or after CLOSE_TIMEOUT_MS. */
async function closeGoingAway(socket: WebSocket, c: Connection | undefined): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    if (socket.readyState === socket.CLOSED) return resolve();
    socket.once('close', () => resolve());
  });
  c?.close('ERR_GOING_AWAY', 'agent shutting down');
  if (socket.readyState === socket.OPEN) socket.close(1001, 'agent shutting down');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)))]);
  clearTimeout(timer);
  socket.terminate();
}
