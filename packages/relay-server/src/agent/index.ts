/**
 * The agent: one registered connection to the tunnel server, its relay
 * streams served by the forwarder, reconnects with capped backoff that resume
 * the session (same URL within the server's grace period). What is fatal:
 * agent/server-errors.ts.
 */
import { EventEmitter, once } from 'node:events';
import type WebSocket from 'ws';
import {
  connectionOverWebSocket,
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  generateLinkKey,
  parseServerMessage,
  PROTOCOL_VERSION,
  backoffDelay,
  startHeartbeat as startConnectionHeartbeat,
  type AddressRules,
  type AgentToServer,
  type ControlErrorCode,
  type Connection,
  type RegisteredMessage,
  type RegisterMessage,
  type ServerToAgentReceived,
  type ViewerGateMode,
} from '@wingman/protocol';
import { createProxyRoute } from './proxy-agent';
import type { Forwarder } from '../forward';
import { VERSION } from '../version';
import { agentUrl, connectOnce, type AttemptFailure } from './connect';
import {
  BACKOFF_INITIAL_MS,
  BACKOFF_MAX_MS,
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
  /** Tunnel server base URL (http:// or https://). */
  server: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Offer P2P to viewers. Default true. */
  p2p?: boolean;
  /** Largest WebSocket message a viewer sends over the relay. Default 1 MiB. */
  wsMaxMessageBytes?: number;
  /** Serves the relay's streams (the caller's, shared with the P2P host; it closes it). */
  forwarder: Forwarder;
  /** Default: memory (resume across reconnects of this process only). */
  resumeStore?: ResumeStore;
  /** `--name`: the session is `<name>.<domain>` on every run, found by name and token (no resume store). */
  name?: string;
  /** Deadline of one attempt (upgrade + registration), ms. */
  connectTimeoutMs?: number;
  /** Reconnect delays, ms: the first (default BACKOFF_INITIAL_MS) doubles up to the cap (default BACKOFF_MAX_MS). */
  backoff?: { initialMs?: number; maxMs?: number };
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** The proxy picked by cli/proxy-config.ts: its URL with credentials, and how messages show it (no password). */
  proxy?: { url: string; shown: string };
  /** `--allow-ip/--deny-ip`; a server that does not know them refuses the register, so they are never silently dropped. */
  addressRules?: AddressRules;
  /** `--allow-email`: viewers sign in; a server without sign-in refuses the register (ERR_SIGN_IN_UNAVAILABLE). */
  allowEmails?: string[];
  /** `--password`, `--expires`, `--approve` (`viewers`): the agent refuses to serve if the server does not confirm them. */
  viewerPassword?: string;
  /** The server enforces it; if it cannot say so, the agent stops by itself EXPIRY_BACKSTOP_MS later. */
  expiresInMs?: number;
  /** Viewer identity (docs/PROTOCOL.md §Viewer identity): viewers announced as `control` events, decisions via sendControl(). */
  viewers?: ViewerGateMode;
  /** `--private`: the server relays nothing, and what it relays anyway is refused (docs/PROTOCOL.md §Verified channels). */
  private?: boolean;
  /** The link key of every session (a stable name's). Default: the resumed session's own, else a new one per session. */
  linkKey?: string;
  /** `--public`: no link verifier, the host name alone opens the session (docs/PROTOCOL.md §Link access). */
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

/** After its own reckoning of the deadline, how long the agent waits for the server's ERR_SESSION_EXPIRED, ms. */
const EXPIRY_BACKSTOP_MS = 5_000;

/** Set by the CLI: the link to share (`url#k=`), the proxy without its password, the address and email rules as sent. */
export type ReadyEvent = ReturnType<typeof readyEvent> & { link?: string; proxy?: string; addressRules?: AddressRules; allowEmails?: string[] };

export interface AgentEvents {
  ready: [ReadyEvent];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number; reason: string }];
  fatal: [{ code: string; message: string }];
  /** A validated control message other than registration (signaling for the P2P host). */
  control: [ServerToAgentReceived];
}

export interface Agent extends EventEmitter<AgentEvents> {
  /** Call once. */
  start(): void;
  /** GOAWAY, no more reconnects; resolves when the socket closed (at most CLOSE_TIMEOUT_MS). */
  close(): Promise<void>;
  /** False when not connected. */
  sendControl(message: AgentToServer): boolean;
}

export function createAgent(options: AgentOptions): Agent {
  const url = agentUrl(options.server);
  // One for the agent's life: every attempt goes through the same proxy.
  const proxy = options.proxy ? { route: createProxyRoute(options.proxy.url), shown: options.proxy.shown } : undefined;
  const emitter = new EventEmitter<AgentEvents>();
  const store = options.resumeStore ?? createMemoryResumeStore();

  let state: 'idle' | 'connecting' | 'live' | 'waiting' | 'stopped' = 'idle';
  let attempt = 0;
  let busyResumes = 0;
  let everRegistered = false;
  let lastFailureCode: string | undefined;
  let sameFailures = 0;
  let liveSince = 0;
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
      timeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
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
    // Equal jitter: many agents dropped by one server restart do not return in lockstep.
    const { initialMs = BACKOFF_INITIAL_MS, maxMs = BACKOFF_MAX_MS } = options.backoff ?? {};
    const delay = delayMs ?? backoffDelay(attempt, { initialMs, maxMs, jitter: true });
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
      // A refused resume is not fatal. ERR_SESSION_IN_USE: the previous agent's socket is not seen
      // closed yet (a restart right after a crash): retry a few times. ERR_SESSION_EXPIRED: this process
      // stops if the deadline was its own; a restarted one starts afresh. Else: a new session at once.
      if (failure.code === 'ERR_SESSION_EXPIRED' && expiryBackstop !== undefined) return fatal(failure.code, failure.message);
      if (failure.code === 'ERR_SESSION_EXPIRED' && options.name === undefined && !everRegistered) return void (store.clear(), connect());
      if (failure.code === 'ERR_SESSION_IN_USE' && busyResumes++ < MAX_BUSY_RESUME_ATTEMPTS) return scheduleRetry(`${failure.code}: ${failure.message}`);
      // A name cannot fall back to a new session (another link): refused ends the agent; else retry.
      if (options.name !== undefined)
        return NAME_REFUSALS.includes(failure.code) ? fatal(failure.code, failure.message) : scheduleRetry(`${failure.code}: ${failure.message}`);
      store.clear();
      return scheduleRetry(`${failure.code}: ${failure.message}; registering a new session`, 0);
    }
    if (failure.fatal) return fatal(failure.code, failure.message);
    // Before the first registration, a failure that cannot heal (unresolvable name, wrong scheme)
    // ends the agent after a few attempts; once it has served, it keeps trying.
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
      options.forwarder.handleStream(stream, 'relay');
    });
    socket.on('close', (code: number, reason: Buffer) => onSocketClose(socket, c, code, reason.toString('utf8')));
    stopHeartbeat?.();
    // A dead path drops the socket (while it is the current one); its 'close' starts the reconnect.
    stopHeartbeat = startConnectionHeartbeat(c, {
      intervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      timeoutMs: options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS,
      maxMissed: HEARTBEAT_MAX_MISSED,
      bufferedAmount: () => socket.bufferedAmount,
      onDead: () => ws === socket && socket.terminate(),
    });
    emitter.emit('ready', readyEvent(options, message, linkKey));
  }

  function onControlText(text: string): void {
    let message: ServerToAgentReceived;
    try {
      message = parseServerMessage(text);
    } catch {
      return; // Unknown or malformed control text (a newer server?): ignored, the relay keeps working.
    }
    // A refused message closes the connection; the reconnect keeps the URL. An expiry cannot be undone.
    if (message.type === 'error' && message.code === 'ERR_SESSION_EXPIRED') return fatal(message.code, message.message);
    if (message.type === 'error') return void (serverError = `${message.code}: ${message.message}`);
    if (message.type !== 'registered') emitter.emit('control', message);
  }

  function onSocketClose(socket: WebSocket, c: Connection, code: number, reason: string): void {
    if (ws !== socket) return;
    stopHeartbeat?.();
    ws = undefined;
    conn = undefined;
    c.transportClosed();
    if (state === 'stopped') return;
    // Backoff starts over only after a connection that held.
    if (Date.now() - liveSince >= STABLE_CONNECTION_MS) attempt = 0;
    const why = serverError
      ? `the tunnel server closed the connection (${serverError})`
      : `connection to the tunnel server lost (code ${code}${reason ? `: ${reason}` : ''})`;
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
  }

  return Object.assign(emitter, {
    start() {
      if (state !== 'idle') throw new Error('agent already started');
      connect();
    },
    async close() {
      const socket = ws;
      stop();
      if (!socket) return;
      // Settles at the close, an error or CLOSE_TIMEOUT_MS, whichever comes first.
      const closed = socket.readyState === socket.CLOSED ? undefined : once(socket, 'close', { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) });
      conn?.close('ERR_GOING_AWAY', 'agent shutting down');
      if (socket.readyState === socket.OPEN) socket.close(1001, 'agent shutting down');
      await closed?.catch(() => undefined);
      socket.terminate();
    },
    sendControl(message: AgentToServer) {
      if (!ws || ws.readyState !== ws.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
  });
}

/** A new session gets `keys.fresh`, a resumed one keeps `keys.resumed`; only the key's verifier leaves this machine. */
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

/** An option the server did not confirm, as a fatal error: never serve without the protection asked for. */
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

function readyEvent(options: AgentOptions, message: RegisteredMessage, linkKey: string) {
  return {
    url: message.url,
    sessionId: message.sessionId,
    // Same session (and URL) as before a reconnect or restart.
    resumed: message.resumed,
    linkKey,
    p2p: message.p2p.enabled,
    // ICE servers may hold TURN credentials: do not print.
    p2pSettings: message.p2p,
    access: message.access === 'password' ? ('password' as const) : ('link' as const),
    // Server clock, ms since epoch.
    ...(message.expiresAt !== undefined ? { expiresAt: message.expiresAt } : {}),
    ...(message.viewers !== undefined ? { viewers: message.viewers } : {}),
    // A resumed URL whose access changed: the server forgot the viewers admitted under the old one.
    ...(message.viewersReset ? { viewersReset: message.viewersReset } : {}),
    // `--name`: sessionId is that name.
    ...(options.name !== undefined ? { named: true as const } : {}),
    ...(options.private ? { private: true as const } : {}),
  };
}
