/**
 * WebRTC signaling messages (JSON text): a viewer's at SIGNAL_PATH, forwarded to the agent wrapped as
 * `{type:'signal', viewerId, message}`. The viewer offers, the agent answers. docs/PROTOCOL.md §Signaling.
 */
import type { SignalingErrorCode } from './error-registry';
import { protocolError } from './errors';
import { asObject, int, num, oneOf, onlyKeys, parseJsonObject, str, type Obj } from './json-fields';
import { parseP2PSettings, type P2PSettings } from './p2p-settings';
import { SIGNAL_MAC_CHARS } from './trust/signal-mac';

export const SIGNAL_PATH = '/__wingman/signal';

/** An SDP offer with many candidates stays < 16 KiB. */
export const MAX_SIGNAL_MESSAGE_BYTES = 32 * 1024;

export const MAX_SDP_CHARS = 30_000;

export const DATA_CHANNEL_LABEL = 'wingman';

export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

const CONNECTION_STATES = ['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed'] as const;
export type ConnectionStateName = (typeof CONNECTION_STATES)[number];

/** `mac`: the sender's MAC under the link key (trust/signal-mac.ts), relayed unchanged. */
export type ViewerSignal =
  | { type: 'offer'; sdp: string; mac?: string }
  | { type: 'ice-candidate'; candidate: IceCandidateInit; mac?: string }
  | { type: 'end-of-candidates'; mac?: string }
  | { type: 'connection-state'; state: ConnectionStateName; reason?: string; connectMs?: number; rttMs?: number }
  | { type: 'bye'; reason?: string };

/** From the agent (wrapped) or the server to a viewer. A reader takes any code (`Code` = string): the other end may be newer. */
export type HostSignal<Code extends string = SignalingErrorCode> =
  | { type: 'answer'; sdp: string; mac?: string }
  | { type: 'ice-candidate'; candidate: IceCandidateInit; mac?: string }
  | { type: 'end-of-candidates'; mac?: string }
  | { type: 'connection-state'; state: ConnectionStateName; reason?: string; connectMs?: number; rttMs?: number }
  | { type: 'bye'; reason?: string }
  | { type: 'error'; code: Code; message: string };

/** server → viewer, first message on the signaling socket. */
export interface SignalHello {
  type: 'hello';
  viewerId: string;
  p2p: P2PSettings;
}

/** Agent control channel: a signaling message to or from one viewer. */
export interface SignalEnvelope<M> {
  type: 'signal';
  viewerId: string;
  message: M;
}

/** server → agent: a viewer's signaling socket closed. */
export interface ViewerLeft {
  type: 'viewer-left';
  viewerId: string;
}

/** 64 random bits, scoped to one session. */
export const VIEWER_ID_PATTERN = /^[0-9a-f]{16}$/;

function fail(msg: string): never {
  throw protocolError('ERR_INVALID_PAYLOAD', msg);
}

/** A message's `viewerId`, checked. */
export function viewerIdOf(o: Obj): string {
  const viewerId = str(o, 'viewerId', 16);
  if (!VIEWER_ID_PATTERN.test(viewerId)) fail('bad viewerId');
  return viewerId;
}

function optStr(o: Obj, k: string, max: number): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, max);
}

function candidate(v: unknown): IceCandidateInit {
  const o = asObject(v, '"candidate"');
  onlyKeys(o, ['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment']);
  const c: IceCandidateInit = { candidate: str(o, 'candidate', 1024) };
  if (o.sdpMid !== undefined && o.sdpMid !== null) c.sdpMid = str(o, 'sdpMid', 64);
  if (o.sdpMLineIndex !== undefined && o.sdpMLineIndex !== null) c.sdpMLineIndex = int(o, 'sdpMLineIndex', 0, 64);
  return c;
}

/** A message's `mac`, checked for shape only (its receiver verifies it). */
function withMac<T extends object>(o: Obj, m: T): T & { mac?: string } {
  const mac = optStr(o, 'mac', SIGNAL_MAC_CHARS);
  return mac === undefined ? m : { ...m, mac };
}

const parseText = (text: string) => parseJsonObject(text, MAX_SIGNAL_MESSAGE_BYTES, 'signaling message');

function state(o: Obj): Extract<ViewerSignal, { type: 'connection-state' }> {
  onlyKeys(o, ['type', 'state', 'reason', 'connectMs', 'rttMs']);
  const out: Extract<ViewerSignal, { type: 'connection-state' }> = { type: 'connection-state', state: oneOf(o.state, 'state', CONNECTION_STATES) };
  if (o.reason !== undefined) out.reason = str(o, 'reason', 200);
  if (o.connectMs !== undefined) out.connectMs = num(o, 'connectMs');
  if (o.rttMs !== undefined) out.rttMs = num(o, 'rttMs');
  return out;
}

/** Validates a message from a viewer (or an already-parsed object, when unwrapping an envelope). */
export function parseViewerSignal(input: string | unknown): ViewerSignal {
  const o = typeof input === 'string' ? parseText(input) : asObject(input, 'signaling message');
  switch (o.type) {
    case 'offer':
      onlyKeys(o, ['type', 'sdp', 'mac']);
      return withMac(o, { type: 'offer', sdp: str(o, 'sdp', MAX_SDP_CHARS) });
    case 'ice-candidate':
      onlyKeys(o, ['type', 'candidate', 'mac']);
      return withMac(o, { type: 'ice-candidate', candidate: candidate(o.candidate) });
    case 'end-of-candidates':
      onlyKeys(o, ['type', 'mac']);
      return withMac(o, { type: 'end-of-candidates' });
    case 'connection-state':
      return state(o);
    case 'bye': {
      onlyKeys(o, ['type', 'reason']);
      const reason = optStr(o, 'reason', 200);
      return reason === undefined ? { type: 'bye' } : { type: 'bye', reason };
    }
    default:
      return fail(`unknown signaling message type ${JSON.stringify(o.type)?.slice(0, 40)}`);
  }
}

/** Validates a message from the host side (agent or server) to a viewer. */
export function parseHostSignal(input: string | unknown): HostSignal<string> {
  const o = typeof input === 'string' ? parseText(input) : asObject(input, 'signaling message');
  switch (o.type) {
    case 'answer':
      onlyKeys(o, ['type', 'sdp', 'mac']);
      return withMac(o, { type: 'answer', sdp: str(o, 'sdp', MAX_SDP_CHARS) });
    case 'error':
      onlyKeys(o, ['type', 'code', 'message']);
      return { type: 'error', code: str(o, 'code', 64), message: str(o, 'message', 1024) };
    case 'ice-candidate':
    case 'end-of-candidates':
    case 'connection-state':
    case 'bye':
      return parseViewerSignal(o) as HostSignal<string>;
    default:
      return fail(`unknown signaling message type ${JSON.stringify(o.type)?.slice(0, 40)}`);
  }
}

/** Validates the server's first message to a viewer. */
export function parseSignalHello(text: string): SignalHello {
  const o = parseText(text);
  if (o.type !== 'hello') fail('expected a hello message');
  onlyKeys(o, ['type', 'viewerId', 'p2p']);
  return { type: 'hello', viewerId: viewerIdOf(o), p2p: parseP2PSettings(asObject(o.p2p, '"p2p"')) };
}

/** Validates the envelope fields of a `signal` control message; the inner message is parsed by the caller's side. */
export function parseEnvelope(o: Obj): { viewerId: string; message: unknown } {
  onlyKeys(o, ['type', 'viewerId', 'message']);
  return { viewerId: viewerIdOf(o), message: o.message };
}
