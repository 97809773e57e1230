/**
 * Control messages between an agent and the tunnel server: JSON text
 * messages on the agent's WebSocket (binary messages on the same socket are
 * protocol frames). camelCase, discriminated by `type`. Validated by hand
 * here (this package has no runtime deps): every field checked, unknown
 * `type`s rejected. Spec: docs/PROTOCOL.md §Agent control channel.
 */
import type { ControlErrorCode } from './error-registry';
import { protocolError } from './errors';
import { parseAddressRules, type AddressRules } from './address-rules';
import { parseAllowedEmails } from './allowed-emails';
import { bool, int, num, obj, onlyKeys, str, type Obj } from './json-fields';
import { parseIceServers, parseP2PSettings, type IceServer, type P2PSettings } from './p2p-settings';
import { linkDigestBytes } from './trust/link-access';
import {
  parseEnvelope,
  parseHostSignal,
  parseViewerSignal,
  VIEWER_ID_PATTERN,
  type HostSignal,
  type SignalEnvelope,
  type ViewerLeft,
  type ViewerSignal,
} from './signaling';
import {
  parseViewerDecision,
  parseViewerGateMode,
  parseViewerGone,
  parseViewerMessage,
  parseVisitorId,
  type ViewerDecisionMessage,
  type ViewerGateMode,
  type ViewerGoneMessage,
  type ViewerMessage,
} from './viewer-control';

/** Path of the agent's WebSocket endpoint on the tunnel server's apex host. The token travels as `Authorization: Bearer <token>`. */
export const AGENT_PATH = '/__wingman/agent';

/** Prefix reserved on every session origin for Wingman's own endpoints (bundle, signaling). */
export const RESERVED_PREFIX = '/__wingman/';

/** Largest control message, bytes. SDP offers are ≈ 1–10 KiB; 64 KiB leaves room and bounds parsing cost. */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;

/** agent → server, first message after the upgrade. */
export interface RegisterMessage {
  type: 'register';
  /** Protocol version of the agent (PROTOCOL_VERSION). */
  version: number;
  /**
   * Present when the agent reconnects and wants its previous session back.
   * `linkVerifier`: the verifier of that session's link key, which the
   * session keeps when it is resumed (the top-level one is for a new session).
   */
  resume?: { sessionId: string; resumeSecret: string; linkVerifier?: string };
  /** Whether the agent offers P2P (false with --no-p2p). */
  p2p: boolean;
  /** Agent software, for logs: "wingman/0.1.0". */
  client: string;
  /**
   * Viewers must present this password (HTTP Basic, any user name) before
   * anything of the session reaches them: relay, shell, signaling
   * (`wingman http --password`). Absent: the link alone gives access.
   * An older server refuses the unknown field, so a password is never
   * silently ignored.
   */
  viewerPassword?: string;
  /**
   * End the session this long after it was created (`wingman http --expires`):
   * the server then closes the agent (`ERR_SESSION_EXPIRED`) and viewers get
   * a "link expired" page. A resumed session keeps its first deadline. An
   * older server refuses the unknown field, so an expiry is never ignored.
   */
  expiresInMs?: number;
  /**
   * Viewer identity (docs/PROTOCOL.md §Viewer identity): the server announces
   * viewers (`viewer` messages) and enforces the agent's `viewer-decision`s.
   * `approve`: every new viewer waits until the agent admits it
   * (`wingman http --approve`). An older server refuses the unknown field.
   */
  viewers?: ViewerGateMode;
  /**
   * `wingman http --private`: the server relays nothing of the session (it
   * serves only the shell, the bundles and signaling); the app is reached
   * over verified P2P channels only (docs/PROTOCOL.md §Verified channels).
   */
  private?: boolean;
  /**
   * A stable name (`wingman http --name shop`): the session's host is
   * `<name>.<domain>` on every run, bound to the agent's token
   * (session-name.ts has the rules). The agent sends no `resume` with it: the
   * name and the token find the session. An older server refuses the unknown
   * field, so a name is never silently ignored.
   */
  name?: string;
  /**
   * Access by capability (docs/PROTOCOL.md §Link access): SHA-256 of the
   * access token derived from the link key (trust/link-access.ts), base64url.
   * Every request, upgrade and signaling socket of the session must then
   * carry the access cookie the token earns, or the token itself. Absent
   * (`wingman http --public`): the host name alone opens the session. The
   * verifier of a new session; a resumed one keeps `resume.linkVerifier`
   * when given. An older server refuses the unknown field, so the gate is
   * never silently dropped.
   */
  linkVerifier?: string;
  /**
   * Which viewer addresses may reach the session at all (`wingman http
   * --allow-ip/--deny-ip`, address-rules.ts): the server checks them on every
   * request, upgrade and signaling socket before any other gate. The latest
   * register decides. An older server refuses the unknown field, so the rules
   * are never silently dropped.
   */
  addressRules?: AddressRules;
  /**
   * The sign-in gate (`wingman http --allow-email`, allowed-emails.ts): every
   * viewer signs in with the server's OpenID Connect issuer, and only these
   * verified emails reach anything of the session. The latest register
   * decides. A server without an issuer refuses it (ERR_SIGN_IN_UNAVAILABLE);
   * an older server refuses the unknown field: the gate is never dropped.
   */
  allowEmails?: string[];
}

/** Shortest and longest session expiry, ms: one second (tests, demos) to 30 days (longer is not an expiry). */
export const MIN_SESSION_EXPIRY_MS = 1_000;
export const MAX_SESSION_EXPIRY_MS = 30 * 86_400_000;

/** Longest viewer password, characters (a passphrase fits; bounds hashing and header size). */
export const MAX_VIEWER_PASSWORD_CHARS = 256;

/** server → agent, answer to register. */
export interface RegisteredMessage {
  type: 'registered';
  sessionId: string;
  url: string;
  /** Secret to present in `resume` after a reconnect. */
  resumeSecret: string;
  /** How long the server keeps the session after the agent drops, ms. */
  graceMs: number;
  /** True when the session was resumed (same URL as before). */
  resumed: boolean;
  p2p: P2PSettings;
  /** 'password' when the server applied the register's viewerPassword; sent only then (older agents reject unknown fields). */
  access?: 'password';
  /** When the session ends (ms since the epoch); sent only when the register asked for an expiry. */
  expiresAt?: number;
  /** The viewer gate the server applied; sent only when the register asked for one. */
  viewers?: ViewerGateMode;
  /**
   * Sent only on a resumed session whose access changed since its previous
   * register (password ↔ link ↔ approve): the server forgot every viewer it
   * had admitted under the old access, and the agent says so.
   */
  viewersReset?: { from: AccessLabel; to: AccessLabel };
}

/** How viewers get into a session, as the agent's banner names it. */
export type AccessLabel = 'link' | 'password' | 'approve' | 'password+approve';
const ACCESS_LABELS: readonly string[] = ['link', 'password', 'approve', 'password+approve'];

/** The access label of a register: its password, and its viewer gate. */
export function accessLabelOf(password: boolean, viewers: ViewerGateMode | undefined): AccessLabel {
  if (viewers === 'approve') return password ? 'password+approve' : 'approve';
  return password ? 'password' : 'link';
}

function parseAccessLabel(v: unknown, k: string): AccessLabel {
  if (typeof v !== 'string' || !ACCESS_LABELS.includes(v)) throw protocolError('ERR_INVALID_PAYLOAD', `"${k}" must be one of ${ACCESS_LABELS.join(', ')}`);
  return v as AccessLabel;
}

/**
 * server → agent: a refusal or failure, then the server closes the socket.
 * A server sends a ControlErrorCode; an agent reads any code (`Code` =
 * string: a newer server may send one this agent does not know).
 */
export interface ErrorMessage<Code extends string = ControlErrorCode> {
  type: 'error';
  code: Code;
  message: string;
}

/** agent → server: what happened to one viewer's peer connection (feeds /metrics and session info). */
export interface PeerReportMessage {
  type: 'peer-report';
  viewerId: string;
  /** connected: P2P usable; failed: gave up (reason says why); closed: peer gone. */
  state: 'connected' | 'failed' | 'closed';
  reason?: string;
  /** Time from offer received to data channel open, ms. */
  connectMs?: number;
  /** Latest protocol PING round trip over the channel, ms. */
  rttMs?: number;
}

/** server → agent signaling: `visitorId` names the viewer identity behind the signaling socket (sessions with a viewer gate). */
export type ViewerSignalEnvelope = SignalEnvelope<ViewerSignal> & { visitorId?: string };

/**
 * server → agent: fresh ICE servers (TURN credentials expire) for the peers
 * the agent opens from now on; sent before a viewer's offer once the
 * agent's credentials are half their lifetime old. Open peers keep theirs.
 */
export interface IceServersMessage {
  type: 'ice-servers';
  iceServers: IceServer[];
}

/** What an agent sends: its signaling errors typed (SignalingErrorCode). */
export type AgentToServer = RegisterMessage | SignalEnvelope<HostSignal> | PeerReportMessage | ViewerDecisionMessage;
/**
 * server → agent: a viewer's app registered a Service Worker of its own, so
 * Wingman stepped aside for that browser (OWN_SW_PATH): it is served the app
 * over the relay from now on. `script` is the worker's URL as the app gave it
 * (cut to MAX_OWN_SW_SCRIPT_CHARS); `visitorId`, that browser's viewer
 * identity (as in `viewer`), when the session tracks viewers. An agent that does not know
 * this message ignores it.
 */
export interface ViewerOwnServiceWorker {
  type: 'viewer-own-sw';
  script: string;
  visitorId?: string;
}

/** Longest worker URL carried in ViewerOwnServiceWorker, characters. */
export const MAX_OWN_SW_SCRIPT_CHARS = 2048;

/** What a server reads from an agent: signaling error codes as any string (relayed to the viewer as they are). */
export type AgentToServerReceived = Exclude<AgentToServer, SignalEnvelope<HostSignal>> | SignalEnvelope<HostSignal<string>>;
/** What a server sends: its error codes typed (ControlErrorCode). */
export type ServerToAgent =
  RegisteredMessage | ErrorMessage | ViewerSignalEnvelope | ViewerLeft | ViewerMessage | ViewerGoneMessage | IceServersMessage | ViewerOwnServiceWorker;
/** What an agent reads from a server: an error's code as any string. */
export type ServerToAgentReceived = Exclude<ServerToAgent, ErrorMessage> | ErrorMessage<string>;

// ---- validation ---------------------------------------------------------------

function parseObject(text: string): Obj {
  if (text.length > MAX_CONTROL_MESSAGE_BYTES) throw protocolError('ERR_INVALID_PAYLOAD', `control message over ${MAX_CONTROL_MESSAGE_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw protocolError('ERR_INVALID_PAYLOAD', 'control message is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw protocolError('ERR_INVALID_PAYLOAD', 'control message is not an object');
  return v as Obj;
}

/** Session ids: 26 chars of RFC 4648 base32 (lower case) = 130 bits, a valid DNS label. */
export const SESSION_ID_PATTERN = /^[a-z2-7]{26}$/;

/** A link verifier field: 32 bytes as base64url (trust/link-access.ts). */
function linkVerifierOf(o: Obj, key: string): string {
  const v = str(o, key, 64);
  if (!linkDigestBytes(v)) throw protocolError('ERR_INVALID_PAYLOAD', `"${key}" is not a link verifier (32 bytes, base64url)`);
  return v;
}

export function parseAgentMessage(text: string): AgentToServerReceived {
  const o = parseObject(text);
  switch (o.type) {
    case 'register': {
      onlyKeys(o, [
        'type',
        'version',
        'resume',
        'p2p',
        'client',
        'viewerPassword',
        'expiresInMs',
        'viewers',
        'private',
        'name',
        'linkVerifier',
        'addressRules',
        'allowEmails',
      ]);
      const m: RegisterMessage = { type: 'register', version: int(o, 'version', 0, 255), p2p: bool(o, 'p2p'), client: str(o, 'client', 100) };
      if (o.viewerPassword !== undefined) {
        const pw = str(o, 'viewerPassword', MAX_VIEWER_PASSWORD_CHARS);
        if (pw.length === 0) throw protocolError('ERR_INVALID_PAYLOAD', '"viewerPassword" must not be empty');
        m.viewerPassword = pw;
      }
      if (o.expiresInMs !== undefined) m.expiresInMs = int(o, 'expiresInMs', MIN_SESSION_EXPIRY_MS, MAX_SESSION_EXPIRY_MS);
      if (o.viewers !== undefined) m.viewers = parseViewerGateMode(o.viewers);
      if (o.private !== undefined) m.private = bool(o, 'private');
      // Its rules are the server's to check (ERR_NAME_INVALID says which one); here only its size.
      if (o.name !== undefined) m.name = str(o, 'name', 64);
      if (m.name !== undefined && (o.resume !== undefined || m.expiresInMs !== undefined))
        throw protocolError('ERR_INVALID_PAYLOAD', 'a register with a "name" carries neither "resume" nor "expiresInMs"');
      if (o.linkVerifier !== undefined) m.linkVerifier = linkVerifierOf(o, 'linkVerifier');
      if (o.addressRules !== undefined) m.addressRules = parseAddressRules(o.addressRules);
      if (o.allowEmails !== undefined) m.allowEmails = parseAllowedEmails(o.allowEmails);
      if (o.resume !== undefined) {
        const r = obj(o, 'resume');
        onlyKeys(r, ['sessionId', 'resumeSecret', 'linkVerifier']);
        const sessionId = str(r, 'sessionId', 64);
        if (!SESSION_ID_PATTERN.test(sessionId)) throw protocolError('ERR_INVALID_PAYLOAD', 'resume.sessionId is not a session id');
        m.resume = { sessionId, resumeSecret: str(r, 'resumeSecret', 128) };
        if (r.linkVerifier !== undefined) m.resume.linkVerifier = linkVerifierOf(r, 'linkVerifier');
      }
      return m;
    }
    case 'signal': {
      const { viewerId, message } = parseEnvelope(o);
      return { type: 'signal', viewerId, message: parseHostSignal(message) };
    }
    case 'peer-report': {
      onlyKeys(o, ['type', 'viewerId', 'state', 'reason', 'connectMs', 'rttMs']);
      const viewerId = str(o, 'viewerId', 16);
      if (!VIEWER_ID_PATTERN.test(viewerId)) throw protocolError('ERR_INVALID_PAYLOAD', 'bad viewerId');
      const state = str(o, 'state', 16);
      if (state !== 'connected' && state !== 'failed' && state !== 'closed') throw protocolError('ERR_INVALID_PAYLOAD', `bad state "${state}"`);
      const m: PeerReportMessage = { type: 'peer-report', viewerId, state };
      if (o.reason !== undefined) m.reason = str(o, 'reason', 200);
      if (o.connectMs !== undefined) m.connectMs = int(o, 'connectMs', 0, 3_600_000);
      if (o.rttMs !== undefined) m.rttMs = num(o, 'rttMs');
      return m;
    }
    case 'viewer-decision':
      return parseViewerDecision(o);
    default:
      throw protocolError('ERR_INVALID_PAYLOAD', `unknown control message type ${JSON.stringify(o.type)?.slice(0, 40)}`);
  }
}

export function parseServerMessage(text: string): ServerToAgentReceived {
  const o = parseObject(text);
  switch (o.type) {
    case 'registered': {
      onlyKeys(o, ['type', 'sessionId', 'url', 'resumeSecret', 'graceMs', 'resumed', 'p2p', 'access', 'expiresAt', 'viewers', 'viewersReset']);
      const m: RegisteredMessage = {
        type: 'registered',
        sessionId: str(o, 'sessionId', 64),
        url: str(o, 'url', 2048),
        resumeSecret: str(o, 'resumeSecret', 128),
        graceMs: int(o, 'graceMs', 0, 86_400_000),
        resumed: bool(o, 'resumed'),
        p2p: parseP2PSettings(obj(o, 'p2p')),
      };
      if (o.access !== undefined) {
        if (o.access !== 'password') throw protocolError('ERR_INVALID_PAYLOAD', '"access" must be "password"');
        m.access = 'password';
      }
      // Epoch ms, up to year 2286: bounds a garbled value.
      if (o.expiresAt !== undefined) m.expiresAt = int(o, 'expiresAt', 0, 9_999_999_999_999);
      if (o.viewers !== undefined) m.viewers = parseViewerGateMode(o.viewers);
      if (o.viewersReset !== undefined) {
        const r = obj(o, 'viewersReset');
        onlyKeys(r, ['from', 'to']);
        m.viewersReset = { from: parseAccessLabel(r.from, 'viewersReset.from'), to: parseAccessLabel(r.to, 'viewersReset.to') };
      }
      return m;
    }
    case 'error':
      onlyKeys(o, ['type', 'code', 'message']);
      return { type: 'error', code: str(o, 'code', 64), message: str(o, 'message', 1024) };
    case 'signal': {
      const { visitorId, ...rest } = o;
      const { viewerId, message } = parseEnvelope(rest);
      const m: ViewerSignalEnvelope = { type: 'signal', viewerId, message: parseViewerSignal(message) };
      if (visitorId !== undefined) m.visitorId = parseVisitorId(visitorId);
      return m;
    }
    case 'viewer':
      return parseViewerMessage(o);
    case 'viewer-own-sw': {
      onlyKeys(o, ['type', 'script', 'visitorId']);
      const m: ViewerOwnServiceWorker = { type: 'viewer-own-sw', script: str(o, 'script', MAX_OWN_SW_SCRIPT_CHARS) };
      if (o.visitorId !== undefined) m.visitorId = parseVisitorId(o.visitorId);
      return m;
    }
    case 'viewer-gone':
      return parseViewerGone(o);
    case 'ice-servers':
      onlyKeys(o, ['type', 'iceServers']);
      return { type: 'ice-servers', iceServers: parseIceServers(o.iceServers) };
    case 'viewer-left': {
      onlyKeys(o, ['type', 'viewerId']);
      const viewerId = str(o, 'viewerId', 16);
      if (!VIEWER_ID_PATTERN.test(viewerId)) throw protocolError('ERR_INVALID_PAYLOAD', 'bad viewerId');
      return { type: 'viewer-left', viewerId };
    }
    default:
      throw protocolError('ERR_INVALID_PAYLOAD', `unknown control message type ${JSON.stringify(o.type)?.slice(0, 40)}`);
  }
}
