/**
 * Control messages between an agent and the tunnel server: JSON text messages on the agent's WebSocket
 * (its binary messages are frames), every field checked, unknown `type`s and keys rejected, so an older
 * server refuses a field it does not know rather than dropping a gate. docs/PROTOCOL.md §Agent control channel.
 */
import type { ControlErrorCode } from './error-registry';
import { protocolError } from './errors';
import { parseAddressRules, type AddressRules } from './address-rules';
import { parseAllowedEmails } from './allowed-emails';
import { bool, int, num, obj, oneOf, onlyKeys, parseJsonObject, str, type Obj } from './json-fields';
import { parseIceServers, parseP2PSettings, type IceServer, type P2PSettings } from './p2p-settings';
import { linkDigestBytes } from './trust/link-access';
import {
  parseEnvelope,
  parseHostSignal,
  parseViewerSignal,
  viewerIdOf,
  type HostSignal,
  type SignalEnvelope,
  type ViewerLeft,
  type ViewerSignal,
} from './signaling';
import {
  parseViewerDecision,
  parseViewerGone,
  parseViewerMessage,
  parseVisitorId,
  type ViewerDecisionMessage,
  type ViewerGateMode,
  type ViewerGoneMessage,
  type ViewerMessage,
  VIEWER_GATE_MODES,
} from './viewer-control';

/** The agent's WebSocket endpoint on the apex host (`Authorization: Bearer <token>`). */
export const AGENT_PATH = '/__wingman/agent';

/** Prefix reserved on every session origin for Wingman's own endpoints (bundle, signaling). */
export const RESERVED_PREFIX = '/__wingman/';

/** SDP offers are ≈ 1–10 KiB; 64 KiB leaves room and bounds parsing cost. */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;

/** agent → server, first message after the upgrade; each optional field is a `wingman http` flag. */
export interface RegisterMessage {
  type: 'register';
  version: number;
  /** A reconnect asking for its session back; `linkVerifier`: that session's, which it keeps. */
  resume?: { sessionId: string; resumeSecret: string; linkVerifier?: string };
  p2p: boolean;
  /** "wingman/0.1.0", for logs. */
  client: string;
  /** `--password`: HTTP Basic before anything of the session (relay, shell, signaling). */
  viewerPassword?: string;
  /** `--expires`: a resumed session keeps its first deadline. */
  expiresInMs?: number;
  /** `--approve` (docs/PROTOCOL.md §Viewer identity). */
  viewers?: ViewerGateMode;
  /** `--private`: nothing relayed; the app only over verified P2P channels (docs/PROTOCOL.md §Verified channels). */
  private?: boolean;
  /** `--name`: a stable host bound to the agent's token, which finds the session (so no `resume`). */
  name?: string;
  /** SHA-256 of the link's access token, base64url (docs/PROTOCOL.md §Link access); absent with `--public`. */
  linkVerifier?: string;
  /** `--allow-ip/--deny-ip`, checked before any other gate; the latest register decides. */
  addressRules?: AddressRules;
  /** `--allow-email`: the sign-in gate; a server without an OpenID issuer refuses it (ERR_SIGN_IN_UNAVAILABLE). */
  allowEmails?: string[];
}

/** One second (tests, demos) to 30 days (longer is not an expiry). */
export const MIN_SESSION_EXPIRY_MS = 1_000;
export const MAX_SESSION_EXPIRY_MS = 30 * 86_400_000;

/** Characters: a passphrase fits; bounds hashing and header size. */
export const MAX_VIEWER_PASSWORD_CHARS = 256;

/** server → agent, answer to register. Optional fields only when the register asked (older agents reject unknown ones). */
export interface RegisteredMessage {
  type: 'registered';
  sessionId: string;
  url: string;
  resumeSecret: string;
  /** How long the server keeps the session after the agent drops, ms. */
  graceMs: number;
  resumed: boolean;
  p2p: P2PSettings;
  access?: 'password';
  /** Epoch ms. */
  expiresAt?: number;
  viewers?: ViewerGateMode;
  /** A resumed session whose access changed: the server forgot the viewers it had admitted. */
  viewersReset?: { from: AccessLabel; to: AccessLabel };
}

/** How viewers get into a session, as the agent's banner names it. */
const ACCESS_LABELS = ['link', 'password', 'approve', 'password+approve'] as const;
export type AccessLabel = (typeof ACCESS_LABELS)[number];

export function accessLabelOf(password: boolean, viewers: ViewerGateMode | undefined): AccessLabel {
  if (viewers === 'approve') return password ? 'password+approve' : 'approve';
  return password ? 'password' : 'link';
}

/** server → agent, then it closes the socket. An agent reads any code (`Code` = string): a newer server may send new ones. */
export interface ErrorMessage<Code extends string = ControlErrorCode> {
  type: 'error';
  code: Code;
  message: string;
}

/** agent → server: what happened to one viewer's peer connection (feeds /metrics and session info). */
export interface PeerReportMessage {
  type: 'peer-report';
  viewerId: string;
  state: 'connected' | 'failed' | 'closed';
  reason?: string;
  /** From offer received to data channel open. */
  connectMs?: number;
  rttMs?: number;
}

/** server → agent signaling: `visitorId` names the viewer identity behind the signaling socket (sessions with a viewer gate). */
export type ViewerSignalEnvelope = SignalEnvelope<ViewerSignal> & { visitorId?: string };

/** server → agent, before an offer once its TURN credentials are half their lifetime old: for the peers opened from now on. */
export interface IceServersMessage {
  type: 'ice-servers';
  iceServers: IceServer[];
}

/** What an agent sends: its signaling errors typed (SignalingErrorCode). */
export type AgentToServer = RegisterMessage | SignalEnvelope<HostSignal> | PeerReportMessage | ViewerDecisionMessage;
/** server → agent: a viewer's app registered its own Service Worker (OWN_SW_PATH); `script` is its URL. */
export interface ViewerOwnServiceWorker {
  type: 'viewer-own-sw';
  script: string;
  visitorId?: string;
}

export const MAX_OWN_SW_SCRIPT_CHARS = 2048;

/** What a server reads from an agent: signaling error codes as any string (relayed to the viewer as they are). */
export type AgentToServerReceived = Exclude<AgentToServer, SignalEnvelope<HostSignal>> | SignalEnvelope<HostSignal<string>>;
/** What a server sends: its error codes typed (ControlErrorCode). */
export type ServerToAgent =
  RegisteredMessage | ErrorMessage | ViewerSignalEnvelope | ViewerLeft | ViewerMessage | ViewerGoneMessage | IceServersMessage | ViewerOwnServiceWorker;
/** What an agent reads from a server: an error's code as any string. */
export type ServerToAgentReceived = Exclude<ServerToAgent, ErrorMessage> | ErrorMessage<string>;

// ---- validation ---------------------------------------------------------------

const parseObject = (text: string) => parseJsonObject(text, MAX_CONTROL_MESSAGE_BYTES, 'control message');

/** Session ids: 26 chars of RFC 4648 base32 (lower case) = 130 bits, a valid DNS label. */
export const SESSION_ID_PATTERN = /^[a-z2-7]{26}$/;

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
      if (o.viewerPassword !== undefined) m.viewerPassword = str(o, 'viewerPassword', MAX_VIEWER_PASSWORD_CHARS, 1);
      if (o.expiresInMs !== undefined) m.expiresInMs = int(o, 'expiresInMs', MIN_SESSION_EXPIRY_MS, MAX_SESSION_EXPIRY_MS);
      if (o.viewers !== undefined) m.viewers = oneOf(o.viewers, 'viewers', VIEWER_GATE_MODES);
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
      const viewerId = viewerIdOf(o);
      const m: PeerReportMessage = { type: 'peer-report', viewerId, state: oneOf(o.state, 'state', ['connected', 'failed', 'closed'] as const) };
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
      if (o.access !== undefined) m.access = oneOf(o.access, 'access', ['password'] as const);
      // Epoch ms, up to year 2286: bounds a garbled value.
      if (o.expiresAt !== undefined) m.expiresAt = int(o, 'expiresAt', 0, 9_999_999_999_999);
      if (o.viewers !== undefined) m.viewers = oneOf(o.viewers, 'viewers', VIEWER_GATE_MODES);
      if (o.viewersReset !== undefined) {
        const r = obj(o, 'viewersReset');
        onlyKeys(r, ['from', 'to']);
        m.viewersReset = { from: oneOf(r.from, 'viewersReset.from', ACCESS_LABELS), to: oneOf(r.to, 'viewersReset.to', ACCESS_LABELS) };
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
      return { type: 'viewer-left', viewerId: viewerIdOf(o) };
    }
    default:
      throw protocolError('ERR_INVALID_PAYLOAD', `unknown control message type ${JSON.stringify(o.type)?.slice(0, 40)}`);
  }
}
